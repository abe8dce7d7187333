/// Library version (semantic) and the C ABI version it implements.
public enum Version {
    public static let major = 0
    public static let minor = 1
    public static let patch = 0
    public static let string = "\(major).\(minor).\(patch)"
    /// Must equal `CTR_ABI_VERSION` in include/contrastive.h (checked by the tests).
    public static let abi: UInt32 = 1
}
