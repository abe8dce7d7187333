#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS

/// The engine's worker threads, used by every non-GEMM kernel.
///
/// Work is split statically: `parallelFor(n)` gives thread t the range
/// `[t·n/T, (t+1)·n/T)`, so for a fixed thread count T every partial sum is formed from the
/// same elements in the same order — results are bit-identical from run to run. When the pool
/// is already busy (a nested call, or a second handle used from another user thread) the parts
/// run one after another on the calling thread, in the same partition, with the same result.
public final class ThreadPool: @unchecked Sendable {
    /// The process-wide pool.
    public static let shared = ThreadPool()

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let runLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var workers = 0          // number of started worker threads (grow-only)
    private var generation: UInt64 = 0
    private var job: ((Int) -> Void)? = nil
    private var jobParts = 0
    private var pending = 0
    private var configured = 1

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_mutex_init(runLock, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
        // CTR_NUM_THREADS=N (N ≥ 1) fixes the count; unset, 0 or unparsable means all CPUs.
        let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let env = getenv("CTR_NUM_THREADS").flatMap { Int(String(cString: $0)) } ?? 0
        let n = env >= 1 ? env : cpus
        setThreads(max(1, min(n, ThreadPool.maxThreads)))
    }

    /// Upper bound accepted by `setThreads`.
    public static let maxThreads = 256

    /// Threads used by engine loops and matrix products.
    public var threads: Int {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return configured
    }

    /// Set the thread count for the engine's loops and matrix products. `n` in 1...maxThreads.
    public func setThreads(_ n: Int) {
        let n = max(1, min(n, ThreadPool.maxThreads))
        pthread_mutex_lock(runLock)   // never change under a running job
        pthread_mutex_lock(mutex)
        while workers < n - 1 {
            let index = workers + 1
            let box = Unmanaged.passRetained(WorkerStart(pool: self, index: index))
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.workerLoop(index: start.index)
                return nil
            }, box.toOpaque())
            if rc != 0 { box.release(); break }
            pthread_detach(tid)
            workers += 1
        }
        configured = min(n, workers + 1)
        pthread_mutex_unlock(mutex)
        pthread_mutex_unlock(runLock)
        // OpenBLAS stays single-threaded; the engine splits products itself (see `BLAS`).
        openblas_set_num_threads(1)
    }

    private final class WorkerStart {
        let pool: ThreadPool
        let index: Int
        init(pool: ThreadPool, index: Int) { self.pool = pool; self.index = index }
    }

    private func workerLoop(index: Int) {
        var seen: UInt64 = 0
        pthread_mutex_lock(mutex)
        while true {
            while generation == seen { pthread_cond_wait(wake, mutex) }
            seen = generation
            guard index < jobParts, let body = job else { continue }
            pthread_mutex_unlock(mutex)
            body(index)
            pthread_mutex_lock(mutex)
            pending -= 1
            if pending == 0 { pthread_cond_signal(done) }
        }
    }

    /// Run `body(part)` for part in 0..<parts, in parallel when possible.
    /// `parts` must not exceed `threads`; parts run concurrently, so they must write disjoint memory.
    public func run(parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { if parts == 1 { body(0) }; return }
        guard pthread_mutex_trylock(runLock) == 0 else {
            for p in 0..<parts { body(p) }
            return
        }
        defer { pthread_mutex_unlock(runLock) }
        withoutActuallyEscaping(body) { escapable in
            pthread_mutex_lock(mutex)
            let usable = min(parts, workers + 1)
            job = escapable
            jobParts = usable
            pending = usable - 1
            generation &+= 1
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
            escapable(0)
            // Parts beyond the started workers (only if thread creation failed) run here.
            if usable < parts { for p in usable..<parts { escapable(p) } }
            pthread_mutex_lock(mutex)
            while pending > 0 { pthread_cond_wait(done, mutex) }
            job = nil
            pthread_mutex_unlock(mutex)
        }
    }
}

/// Number of parts to split `n` items into, at most the configured threads, and at least
/// `grain` items per part.
@inlinable
public func parallelParts(_ n: Int, grain: Int) -> Int {
    let t = ThreadPool.shared.threads
    return max(1, min(t, n / max(grain, 1)))
}

/// The static range of part `p` of `parts` over `0..<n`.
@inlinable
public func partRange(_ p: Int, of parts: Int, _ n: Int) -> Range<Int> {
    (p * n / parts)..<((p + 1) * n / parts)
}

/// Parallel loop over `0..<n` in contiguous static ranges (see `ThreadPool`).
/// `grain` is the smallest number of items worth a thread.
@inlinable
public func parallelFor(_ n: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    guard n > 0 else { return }
    let parts = parallelParts(n, grain: grain)
    ThreadPool.shared.run(parts: parts) { p in body(partRange(p, of: parts, n)) }
}
