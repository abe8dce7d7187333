// swift-tools-version:6.0
// libcontrastive — self-supervised contrastive learning of visual representations.
//
// Targets are listed bottom-up: OpenBLAS → engine → C ABI (libcontrastive.so) → tools.
import PackageDescription

// The package directory, so linker flags can name the version script absolutely.
let packageDir = String(#filePath.dropLast("/Package.swift".count))

// Hot loops need a target CPU with FMA/AVX2 for SIMD types to compile to vector code.
let engineFlags: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell", "-enforce-exclusivity=unchecked"]),
]

let package = Package(
    name: "libcontrastive",
    products: [
        // MARK: Shipped artefacts
        /// libcontrastive.so — the C ABI declared in include/contrastive.h.
        .library(name: "contrastive", type: .dynamic, targets: ["ContrastiveCABI"]),
        .executable(name: "contrastive-bench", targets: ["ContrastiveBench"]),
    ],
    targets: [
        // MARK: System libraries
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        /// PNG (libpng) and JPEG (libjpeg-turbo) codecs with setjmp error handling, so a bad
        /// file is an error code, never exit()/abort() inside the host process. Headers come
        /// from /usr/include (`pkg-config --cflags libpng libjpeg` adds only
        /// -I/usr/include/libpng16, which /usr/include/png.h already points into); the
        /// libraries are those `pkg-config --libs libpng libjpeg` names.
        .target(
            name: "CImageCodecs",
            cSettings: [.unsafeFlags(["-O2", "-Wall", "-Wextra"])],
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]
        ),
        /// Hand-vectorised kernels with runtime CPU checks (the AVX-512 GEMM); internal.
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3", "-Wall", "-Wextra"])]
        ),
        /// include/contrastive.h as a Swift module (types only; the ABI layer defines the functions).
        .systemLibrary(name: "CContrastiveHeader"),

        // MARK: Engine
        /// Tensors, kernels, autodiff, (later) networks, objectives, methods, training.
        .target(
            name: "Contrastive",
            dependencies: ["COpenBLAS", "CZlib", "CImageCodecs", "CKernels"],
            swiftSettings: engineFlags
        ),

        // MARK: C ABI
        /// @_cdecl exports only: marshalling, handles, status codes — no math.
        .target(
            name: "ContrastiveCABI",
            dependencies: ["Contrastive", "CContrastiveHeader"],
            exclude: ["exports.map"],
            swiftSettings: engineFlags,
            linkerSettings: [
                .unsafeFlags([
                    "-static-stdlib",
                    "-Xlinker", "-soname=libcontrastive.so.0",
                    "-Xlinker", "--version-script=\(packageDir)/Sources/ContrastiveCABI/exports.map",
                ]),
            ]
        ),

        // MARK: Tools
        /// The `contrastive` command-line tool (installed as build/bin/contrastive).
        .executableTarget(
            name: "ContrastiveCLI",
            dependencies: ["Contrastive"],
            swiftSettings: engineFlags
        ),
        .executableTarget(
            name: "ContrastiveBench",
            dependencies: ["Contrastive"],
            swiftSettings: engineFlags
        ),

        // MARK: Tests
        .testTarget(
            name: "ContrastiveTests",
            dependencies: ["Contrastive"],
            exclude: ["Fixtures"],
            swiftSettings: engineFlags
        ),
    ],
    swiftLanguageModes: [.v5]
)
