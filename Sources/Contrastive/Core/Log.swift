#if canImport(Glibc)
import Glibc
#endif

/// Severity of a log message (`ctr_log_level`).
public enum LogLevel: Int32, Sendable, Comparable {
    case debug = 0, info = 1, warn = 2, error = 3
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Where the engine's messages go. Default: warnings and errors to stderr.
/// The C ABI installs a user callback here (`ctr_log_set`). Guarded by a mutex so messages
/// from worker threads and a concurrent `ctr_log_set` never race.
public enum Log {
    public typealias Sink = (LogLevel, String) -> Void

    nonisolated(unsafe) private static var sink: Sink? = nil
    nonisolated(unsafe) private static var minLevel: LogLevel = .warn
    nonisolated(unsafe) private static var mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()

    /// Install a sink (nil restores stderr) and the minimum level that is delivered.
    public static func configure(sink newSink: Sink?, minLevel level: LogLevel) {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        sink = newSink
        minLevel = level
    }

    /// Install a sink (nil restores stderr), keeping the level.
    public static func setSink(_ newSink: Sink?) {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        sink = newSink
    }

    public static func setMinLevel(_ level: LogLevel) {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        minLevel = level
    }

    public static var level: LogLevel {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return minLevel
    }

    /// Deliver a message. The sink is called with the mutex held, so it must not log itself.
    public static func write(_ level: LogLevel, _ message: @autoclosure () -> String) {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        guard level >= minLevel else { return }
        let text = message()
        if let s = sink {
            s(level, text)
        } else {
            let tag = ["debug", "info", "warn", "error"][Int(level.rawValue)]
            let line = "libcontrastive [\(tag)] \(text)\n"
            _ = line.withCString { fputs($0, stderr) }
        }
    }

    public static func debug(_ m: @autoclosure () -> String) { write(.debug, m()) }
    public static func info(_ m: @autoclosure () -> String) { write(.info, m()) }
    public static func warn(_ m: @autoclosure () -> String) { write(.warn, m()) }
}
