// swift-tools-version:6.0
// Fuzz executables for EventLog's decoders. A nested package, because a target
// that needs libFuzzer would break a plain `swift build` of the root package.
// Build and run one with: Fuzz/run.sh TARGET SECONDS
import PackageDescription

let targets = ["record", "segment-header", "segment-footer", "manifest", "index", "snapshot", "stream-rules"]

let package = Package(
    name: "EventLogFuzz",
    dependencies: [.package(name: "EventLog", path: "..")],
    targets: [.target(name: "CFuzzDriver")]
        + targets.map { name in
            .executableTarget(
                name: "fuzz-\(name)",
                dependencies: ["CFuzzDriver", .product(name: "EventLog", package: "EventLog")],
                path: "Sources/fuzz-\(name)")
        },
    swiftLanguageModes: [.v6]
)
