import COpenBLAS

/// "key=value" lines describing this build and its runtime configuration.
public enum BuildInfo {
    public static func text() -> String {
        var lines = [
            "version=\(Version.string)",
            "abi=\(Version.abi)",
            "threads=\(ThreadPool.shared.threads)",
            "blas=openblas",
            "gemm_kernel=\(BLAS.kernel.rawValue)",
        ]
        if let cfg = openblas_get_config() { lines.append("blas_config=\(String(cString: cfg))") }
        lines.append("blas_threads=\(openblas_get_num_threads())")
        lines.append("target_cpu=haswell")
        return lines.joined(separator: "\n") + "\n"
    }
}
