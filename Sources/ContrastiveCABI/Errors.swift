// Per-thread error text and the conversion of engine errors into `ctr_status`.
#if canImport(Glibc)
import Glibc
#endif
import Contrastive

/// One malloc'd C string per thread, freed by the key's destructor at thread exit.
private let errorKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { p in free(p) }
    return key
}()

private let emptyString: UnsafeMutablePointer<CChar> = {
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    p[0] = 0
    return p
}()

/// Record `message` as this thread's last error.
func setLastError(_ message: String) {
    let old = pthread_getspecific(errorKey)
    let copy = message.withCString { strdup($0) }
    pthread_setspecific(errorKey, copy.map { UnsafeRawPointer($0) })
    if let old { free(old) }
}

func clearLastError() {
    if let old = pthread_getspecific(errorKey) {
        pthread_setspecific(errorKey, nil)
        free(old)
    }
}

func lastErrorPointer() -> UnsafePointer<CChar> {
    if let p = pthread_getspecific(errorKey) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
    return UnsafePointer(emptyString)
}

/// Run `body`; map success to CTR_STATUS_OK and any thrown error to its status + message.
@inline(__always)
func guarded(_ function: StaticString, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return Status.ok.rawValue
    } catch let e as ContrastiveError {
        setLastError("\(function): \(e.message)")
        return e.status.rawValue
    } catch {
        setLastError("\(function): \(error)")
        return Status.internal.rawValue
    }
}

/// Fail with `status` and `message` (for argument checks at the boundary).
func fail(_ status: Status, _ function: StaticString, _ message: String) -> Int32 {
    setLastError("\(function): \(message)")
    return status.rawValue
}
