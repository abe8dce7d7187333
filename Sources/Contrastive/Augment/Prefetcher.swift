// A prefetching loader: a background thread augments batch b+1 while the caller trains on
// batch b. Two output buffers alternate; `next()` hands out one and starts the other.
#if canImport(Glibc)
import Glibc
#endif

final class PrefetchCore: @unchecked Sendable {
    public let augmenter: Augmenter
    let dataset: ImageBatch
    let batches: [[Int]]          // dataset rows of each batch, in order
    let seed: UInt64, epoch: UInt64
    let buffers: [Storage]
    let floatsPerImage: Int

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var requested = -1        // batch the worker should make next (-1: none)
    private var ready = -1            // last batch finished by the worker
    private var failure: ContrastiveError? = nil
    private var stop = false
    private var thread = pthread_t()
    private var nextBatch = 0

    /// Prefetch the batches of `order` (dataset rows, also the RNG keys) in chunks of
    /// `batchSize` (the last may be smaller) for (seed, epoch). The dataset memory must stay
    /// valid while the prefetcher lives.
    init(augmenter: Augmenter, dataset: ImageBatch, order: [Int], batchSize: Int, seed: UInt64, epoch: UInt64) throws {
        guard batchSize >= 1 else { throw ContrastiveError.invalid("batch size \(batchSize) must be ≥ 1") }
        for r in order where r < 0 || r >= dataset.n { throw ContrastiveError.invalid("row \(r) outside 0..<\(dataset.n)") }
        self.augmenter = augmenter
        self.dataset = dataset
        self.batches = stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
        self.seed = seed; self.epoch = epoch
        floatsPerImage = try augmenter.outputCount(n: 1, h: dataset.h, w: dataset.w, c: dataset.c)
        let cap = try checkedCount([floatsPerImage, batchSize], what: "prefetch buffer")
        buffers = [try Storage(count: cap), try Storage(count: cap)]
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        let box = Unmanaged.passRetained(self)
        let rc = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<PrefetchCore>.fromOpaque(raw!).takeRetainedValue()
            me.worker()
            return nil
        }, box.toOpaque())
        guard rc == 0 else { box.release(); throw ContrastiveError(.internal, "could not start the prefetch thread (\(rc))") }
        request(0)
    }

    public var batchCount: Int { batches.count }

    private func request(_ b: Int) {
        pthread_mutex_lock(mutex)
        if b < batches.count { requested = b }
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    private func worker() {
        pthread_mutex_lock(mutex)
        while true {
            while requested < 0 && !stop { pthread_cond_wait(cond, mutex) }
            if stop { break }
            let b = requested
            requested = -1
            pthread_mutex_unlock(mutex)
            var err: ContrastiveError? = nil
            do {
                let rows = batches[b]
                let keys = rows.map { Int64($0) }
                try rows.withUnsafeBufferPointer { rp in
                    try keys.withUnsafeBufferPointer { kp in
                        let buf = buffers[b % 2]
                        try augmenter.apply(dataset, count: rows.count, rows: rp.baseAddress, keys: kp.baseAddress,
                                            seed: seed, epoch: epoch, out: buf.base, capacity: buf.count)
                    }
                }
            } catch let e as ContrastiveError { err = e } catch { err = ContrastiveError(.internal, "\(error)") }
            pthread_mutex_lock(mutex)
            ready = b
            if let err { failure = err }
            pthread_cond_broadcast(cond)
        }
        pthread_mutex_unlock(mutex)
    }

    /// The next batch: its dataset rows and its views (view-major, `Augmenter.apply`'s
    /// layout, n = rows.count). The pointer stays valid until the call after next;
    /// nil when the epoch is over.
    public func next() throws -> (rows: [Int], views: UnsafeMutablePointer<Float>)? {
        let b = nextBatch
        guard b < batches.count else { return nil }
        pthread_mutex_lock(mutex)
        while ready < b && failure == nil { pthread_cond_wait(cond, mutex) }
        let f = failure
        pthread_mutex_unlock(mutex)
        if let f { throw f }
        nextBatch += 1
        request(b + 1)    // overlaps with the caller's work on batch b
        return (batches[b], buffers[b % 2].base)
    }

    /// Stop the worker (waits for a batch in progress). Called by deinit too.
    public func close() {
        pthread_mutex_lock(mutex)
        let running = !stop
        stop = true
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        if running { pthread_join(thread, nil) }
    }

    deinit {
        close()
        pthread_mutex_destroy(mutex); pthread_cond_destroy(cond)
        mutex.deallocate(); cond.deallocate()
    }
}

/// The public face of the prefetcher. The worker thread holds the inner state; dropping the
/// last reference to this object (or calling `close()`) stops and joins the thread.
public final class AugmentPrefetcher {
    let core: PrefetchCore
    /// Prefetch the batches of `order` (dataset rows, also the RNG keys) in chunks of
    /// `batchSize` (the last may be smaller) for (seed, epoch). The dataset memory must stay
    /// valid while the prefetcher lives.
    public init(augmenter: Augmenter, dataset: ImageBatch, order: [Int], batchSize: Int, seed: UInt64, epoch: UInt64) throws {
        core = try PrefetchCore(augmenter: augmenter, dataset: dataset, order: order, batchSize: batchSize, seed: seed, epoch: epoch)
    }
    public var batchCount: Int { core.batchCount }
    /// See `PrefetchCore.next`: rows of the batch and its views; valid until the call after next.
    public func next() throws -> (rows: [Int], views: UnsafeMutablePointer<Float>)? { try core.next() }
    public func close() { core.close() }
    deinit { core.close() }
}
