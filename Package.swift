// swift-tools-version:6.0
// EventLog: an embeddable, crash-safe, log-structured event store.
// Toolchain only: no package dependencies (see DESIGN.md, "Constraints").
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "EventLog",
    products: [
        .library(name: "EventSourcing", targets: ["EventSourcing"]),
        .library(name: "EventStoreConformance", targets: ["EventStoreConformance"]),
        .library(name: "EventLog", targets: ["EventLog"]),
        .executable(name: "eventlog", targets: ["EventLogCLI"]),
        .executable(name: "eventlog-bench", targets: ["EventLogBench"]),
        .executable(name: "eventlog-crashtest", targets: ["EventLogCrashTest"]),
    ],
    targets: [
        // The only C: hardware CRC32C (SSE4.2) with a portable table fallback.
        .target(name: "CCRC32C"),
        // What applications program against: event and stream types, errors, limits.
        .target(name: "EventSourcing", swiftSettings: strictSettings),
        // The EventStore protocol's rules as a runnable suite, plus a differential runner.
        .target(name: "EventStoreConformance", dependencies: ["EventSourcing"], swiftSettings: strictSettings),
        // The file-backed engine: Platform -> Format -> Log -> Store.
        .target(name: "EventLog", dependencies: ["CCRC32C", "EventSourcing"], swiftSettings: strictSettings),
        // The order domain as an application would write it: events, aggregate, projection, saga.
        .target(name: "OrderExample", dependencies: ["EventSourcing"], swiftSettings: strictSettings),
        .executableTarget(
            name: "EventLogCLI", dependencies: ["EventLog", "EventSourcing", "OrderExample"],
            path: "Sources/eventlog", swiftSettings: strictSettings),
        .executableTarget(
            name: "EventLogBench", dependencies: ["EventLog", "EventSourcing", "OrderExample"],
            path: "Benchmarks/EventLogBench", swiftSettings: strictSettings),
        // Simulated power loss and process crashes at random I/O calls, checked against a model.
        .executableTarget(
            name: "EventLogCrashTest", dependencies: ["EventLog", "EventSourcing"],
            path: "Sources/eventlog-crashtest", swiftSettings: strictSettings),
        .testTarget(
            name: "EventSourcingTests", dependencies: ["EventSourcing", "EventStoreConformance", "OrderExample"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "EventLogTests", dependencies: ["EventLog", "EventSourcing", "EventStoreConformance", "CCRC32C"],
            swiftSettings: strictSettings),
        // Runs the built `eventlog` binary; depending on EventLogCLI builds it first.
        .testTarget(
            name: "EventLogCLITests", dependencies: ["EventLogCLI", "EventLog", "EventSourcing"],
            path: "Tests/EventLogCLITests", swiftSettings: strictSettings),
    ],
    swiftLanguageModes: [.v6]
)
