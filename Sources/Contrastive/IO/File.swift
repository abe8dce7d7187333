#if canImport(Glibc)
import Glibc
#endif

/// File helpers that never trust sizes and never leave half-written files behind.
public enum FileIO {
    /// Read a whole regular file, refusing files larger than `maxBytes`.
    public static func read(_ path: String, maxBytes: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ContrastiveError(.io, "cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ContrastiveError(.io, "cannot stat \(path): \(errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ContrastiveError(.io, "\(path) is not a regular file") }
        let size = Int(st.st_size)
        guard size >= 0, size <= maxBytes else {
            throw ContrastiveError(.format, "\(path) is \(size) bytes, more than the \(maxBytes) allowed")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buf in
            while done < size {
                let r = Glibc.read(fd, buf.baseAddress! + done, size - done)
                if r < 0 { if errno == EINTR { continue }; throw ContrastiveError(.io, "reading \(path): \(errnoText())") }
                if r == 0 { break }
                done += r
            }
        }
        guard done == size else { throw ContrastiveError(.io, "\(path) changed size while being read") }
        return bytes
    }

    /// Write `parts` to `path` atomically: a temporary file in the same folder, fsync, rename.
    /// On any failure the temporary file is removed and an existing `path` is untouched.
    public static func writeAtomically(_ path: String, parts: [UnsafeRawBufferPointer]) throws {
        // A name no other writer (thread or process) uses: pid, a process-wide counter, a clock
        // reading; O_EXCL makes a collision an error instead of a shared file.
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let serial = tempCounter.add()
        let tmp = path + ".tmp-\(getpid())-\(serial)-\(ts.tv_nsec)"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ContrastiveError(.io, "cannot write \(path): creating its temporary file failed: \(errnoText())") }
        var ok = false
        defer {
            if !ok { close(fd); unlink(tmp) }
        }
        for part in parts where part.count > 0 {
            var off = 0
            while off < part.count {
                let w = write(fd, part.baseAddress! + off, part.count - off)
                if w < 0 { if errno == EINTR { continue }; throw ContrastiveError(.io, "writing \(path): \(errnoText())") }
                off += w
            }
        }
        guard fsync(fd) == 0 else { throw ContrastiveError(.io, "writing \(path): fsync failed: \(errnoText())") }
        guard close(fd) == 0 else { ok = true; unlink(tmp); throw ContrastiveError(.io, "writing \(path): close failed: \(errnoText())") }
        ok = true
        guard rename(tmp, path) == 0 else {
            let e = errnoText()
            unlink(tmp)
            throw ContrastiveError(.io, "writing \(path): rename of the temporary file failed: \(e)")
        }
        // Make the rename durable: fsync the folder (best effort).
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Process-wide counter for temporary names.
    static let tempCounter = AtomicCounter()
}

/// A mutex-protected counter (no Foundation, no Synchronization module needed).
final class AtomicCounter: @unchecked Sendable {
    private var value: UInt64 = 0
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(lock, nil) }
    func add() -> UInt64 {
        pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }
        value += 1
        return value
    }
}
