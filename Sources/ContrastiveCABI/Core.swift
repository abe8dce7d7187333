// The C ABI core: versions, status text, errors, threads, logging, build info.
// Marshalling only — every computation lives in the Contrastive engine.
#if canImport(Glibc)
import Glibc
#endif
import Contrastive
import CContrastiveHeader

/// Static C strings for each status (never freed).
private let statusStrings: [Int32: UnsafeMutablePointer<CChar>] = {
    var d: [Int32: UnsafeMutablePointer<CChar>] = [:]
    for s in Status.allCases { d[s.rawValue] = strdup(s.text) }
    return d
}()
private let unknownStatus = strdup("unknown status")!
private let versionCString = strdup(Version.string)!

@_cdecl("ctr_abi_version")
public func ctr_abi_version() -> UInt32 { Version.abi }

@_cdecl("ctr_version_string")
public func ctr_version_string() -> UnsafePointer<CChar> { UnsafePointer(versionCString) }

@_cdecl("ctr_status_string")
public func ctr_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    UnsafePointer(statusStrings[status] ?? unknownStatus)
}

@_cdecl("ctr_last_error")
public func ctr_last_error() -> UnsafePointer<CChar> { lastErrorPointer() }

@_cdecl("ctr_clear_error")
public func ctr_clear_error() { clearLastError() }

@_cdecl("ctr_build_info")
public func ctr_build_info(_ buf: UnsafeMutablePointer<CChar>?, _ capacity: UInt, _ needed: UnsafeMutablePointer<UInt>?) -> Int32 {
    if buf == nil && capacity > 0 {
        return fail(.invalidArgument, "ctr_build_info", "buf is NULL but capacity is \(capacity)")
    }
    let text = BuildInfo.text()
    let bytes = Array(text.utf8) + [0]
    needed?.pointee = UInt(bytes.count)
    guard let buf, capacity >= UInt(bytes.count) else {
        return fail(.bufferTooSmall, "ctr_build_info", "needs \(bytes.count) bytes, capacity is \(capacity)")
    }
    bytes.withUnsafeBufferPointer { src in
        UnsafeMutableRawPointer(buf).copyMemory(from: src.baseAddress!, byteCount: bytes.count)
    }
    return Status.ok.rawValue
}

@_cdecl("ctr_set_num_threads")
public func ctr_set_num_threads(_ n: Int32) -> Int32 {
    guard n >= 0, Int(n) <= ThreadPool.maxThreads else {
        return fail(.invalidArgument, "ctr_set_num_threads", "thread count \(n) outside 0...\(ThreadPool.maxThreads)")
    }
    let count = n == 0 ? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) : Int(n)
    ThreadPool.shared.setThreads(count)
    Log.debug("threads set to \(ThreadPool.shared.threads)")
    return Status.ok.rawValue
}

@_cdecl("ctr_get_num_threads")
public func ctr_get_num_threads() -> Int32 { Int32(ThreadPool.shared.threads) }

public typealias CLogFn = @convention(c) (Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void

@_cdecl("ctr_log_set")
public func ctr_log_set(_ fn: CLogFn?, _ userData: UnsafeMutableRawPointer?) {
    guard let fn else { Log.setSink(nil); return }
    Log.setSink { lvl, message in
        message.withCString { fn(lvl.rawValue, $0, userData) }
    }
}

@_cdecl("ctr_log_set_level")
public func ctr_log_set_level(_ level: Int32) -> Int32 {
    guard let l = LogLevel(rawValue: level) else {
        return fail(.invalidArgument, "ctr_log_set_level", "level \(level) is not one of CTR_LOG_DEBUG..CTR_LOG_ERROR")
    }
    Log.setMinLevel(l)
    return Status.ok.rawValue
}
