// Stores written through the library rather than the CLI: quicker for large
// stores, and the only way to write what the CLI cannot (binary data, ids that
// tie events together, metadata that is not an object).
import EventLog
import EventSourcing
import Foundation

enum StoreFixture {
    /// Opens a new store at `folder.store` (64 KiB segments unless told, no fsync
    /// per call: the tests do not pull the power), runs `body`, and closes it.
    static func write(
        in folder: TemporaryDirectory, segmentSizeBytes: Int = 64 * 1024,
        _ body: (FileEventStore) async throws -> Void
    ) async throws {
        var options = StoreOptions(durability: .none)
        options.segmentSizeBytes = segmentSizeBytes
        let store = try FileEventStore.open(directory: folder.store, options: options)
        do {
            try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    /// A JSON event whose data is `json`.
    static func event(_ type: String, _ json: String, metadata: String = "") -> EventData {
        EventData(type: type, data: Data(json.utf8), metadata: Data(metadata.utf8))
    }
}
