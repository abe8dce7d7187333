// Opaque handles and options structs — the two patterns every object in the C API uses.
#if canImport(Glibc)
import Glibc
#endif
import Contrastive

/// What a C handle points at: a tag naming the object kind plus the engine object.
/// The tag turns a handle of the wrong kind (a `ctr_model *` passed where a `ctr_dataset *` is
/// expected after a cast) into CTR_STATUS_INVALID_ARGUMENT instead of undefined behaviour.
final class HandleBox {
    let tag: UInt64
    let object: AnyObject
    init(tag: UInt64, object: AnyObject) { self.tag = tag; self.object = object }
}

/// Handle kinds (arbitrary distinct constants).
enum HandleTag {
    static let model: UInt64 = 0x6374_725F_6D6F_646C      // "ctr_modl"
    static let augmenter: UInt64 = 0x6374_725F_6175_676D  // "ctr_augm"
    static let dataset: UInt64 = 0x6374_725F_6461_7461    // "ctr_data"
    static let trainer: UInt64 = 0x6374_725F_7472_6E72    // "ctr_trnr"
}

/// Retain `object` and return it as an opaque C pointer.
func makeHandle(_ object: AnyObject, tag: UInt64) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(HandleBox(tag: tag, object: object)).toOpaque())
}

/// The object behind a handle, or a thrown INVALID_ARGUMENT for NULL or a handle of another kind.
func object<T: AnyObject>(_ handle: OpaquePointer?, tag: UInt64, as type: T.Type, name: String) throws -> T {
    guard let handle else { throw ContrastiveError.invalid("\(name) is NULL") }
    let box = Unmanaged<HandleBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    guard box.tag == tag, let obj = box.object as? T else {
        throw ContrastiveError.invalid("\(name) is not a handle of the expected kind")
    }
    return obj
}

/// Release a handle; NULL is a no-op. A handle of another kind is left alone (and logged).
func releaseHandle(_ handle: OpaquePointer?, tag: UInt64, function: String) {
    guard let handle else { return }
    let un = Unmanaged<HandleBox>.fromOpaque(UnsafeRawPointer(handle))
    guard un.takeUnretainedValue().tag == tag else {
        Log.warn("\(function): handle of another kind ignored")
        return
    }
    un.release()
}

/// Read a caller's options struct whose first field is `uint32_t struct_size`: start from the
/// defaults and copy only the bytes the caller declared, so older callers (smaller structs)
/// keep working when fields are appended. A NULL pointer means "defaults".
func readOptions<T>(_ ptr: UnsafeRawPointer?, defaults: T, name: String) throws -> T {
    var value = defaults
    guard let ptr else { return value }
    let declared = Int(ptr.load(as: UInt32.self))
    guard declared >= MemoryLayout<UInt32>.size, declared % 4 == 0 else {
        throw ContrastiveError.invalid("\(name).struct_size is \(declared); fill the struct with its *_options_default() function")
    }
    let n = min(declared, MemoryLayout<T>.size)
    withUnsafeMutableBytes(of: &value) { dst in dst.copyMemory(from: UnsafeRawBufferPointer(start: ptr, count: n)) }
    return value
}

/// Validate a caller array of `count` elements (NULL allowed only when count is 0).
func checkedBuffer<T>(_ p: UnsafePointer<T>?, count: Int, name: String) throws -> UnsafePointer<T>? {
    if count == 0 { return p }
    guard let p else { throw ContrastiveError.invalid("\(name) is NULL") }
    return p
}
