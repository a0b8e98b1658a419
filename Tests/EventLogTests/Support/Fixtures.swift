// Small builders shared by the engine tests.
import EventSourcing
import Foundation

@testable import EventLog

/// An event with a small JSON payload.
func event(_ type: String = "Happened", _ n: Int = 0, id: UUID = UUID(), bytes: Int? = nil) -> EventData {
    if let bytes { return EventData(id: id, type: type, data: Data(repeating: UInt8(truncatingIfNeeded: n), count: bytes), isJSON: false) }
    return EventData(id: id, type: type, data: Data(#"{"n":\#(n)}"#.utf8))
}

/// Options for tests: small segments so rolls happen, fsync durability.
func testOptions(segmentSizeBytes: Int = 64 * 1024, durability: Durability = .fsync) -> StoreOptions {
    var options = StoreOptions(durability: durability)
    options.segmentSizeBytes = segmentSizeBytes
    return options
}

/// The store's segment files, in log order.
func segmentFiles(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { $0.hasSuffix(".seg") }.sorted().map { directory + "/" + $0 }
}

/// Reads a file's bytes.
func bytes(of path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Overwrites a file with `bytes`.
func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Removes the store's index files (as a crash before a checkpoint would leave it).
func removeIndexFiles(_ directory: String) throws {
    for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".idx") {
        try FileManager.default.removeItem(atPath: directory + "/" + name)
    }
}
