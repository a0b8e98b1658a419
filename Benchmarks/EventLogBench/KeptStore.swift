// The large open store costs tens of seconds to build, so it is kept between runs
// beside the scratch folder, with a marker saying what it holds; a store whose
// marker is missing or different, or that fails to open, is rebuilt.
import EventLog
import EventSourcing
import Foundation

/// A store kept between runs in `PARENT/eventlog-bench-open-<label>/`: the store
/// in `store/`, and `marker.txt` written only after a complete build and clean close.
struct KeptStore: Sendable {
    /// Bump when the layout or the events change, so old stores are rebuilt.
    static let formatTag = "eventlog-bench-open-store-1"

    let folder: String
    let layout: StoreLayout

    var storeDirectory: String { folder + "/store" }
    private var markerPath: String { folder + "/marker.txt" }

    init(parentPath: String, label: String, layout: StoreLayout) {
        folder = "\(parentPath)/eventlog-bench-open-\(label)"
        self.layout = layout
    }

    /// What the marker says of a complete store with this layout.
    private var markerText: String {
        "format \(Self.formatTag)\nevents \(layout.eventCount)\nstreams \(layout.streamNames.count)\n"
            + "dataBytes \(BenchmarkEventFactory.dataSizeBytes)\n"
    }

    /// Makes sure a complete store is in place: reuses a kept one whose marker
    /// matches and which opens with the expected last position; otherwise removes
    /// the folder and builds the store again. Returns a phrase for the row's note.
    func prepare(label: String) async throws -> String {
        if let reason = try await staleReason() {
            Progress.log("  \(label): building the kept store in \(folder) (\(reason))")
            if FileManager.default.fileExists(atPath: folder) { try FileManager.default.removeItem(atPath: folder) }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let seconds = try await StoreBuilder.build(layout, directory: storeDirectory, label: label)
            try Data(markerText.utf8).write(to: URL(fileURLWithPath: markerPath))
            return "store built this run in \(NumberFormatting.decimal(seconds, decimals: 1)) s, kept in \(folder)"
        }
        Progress.log("  \(label): reusing the kept store in \(folder)")
        return "kept store reused from \(folder)"
    }

    /// Why the kept store cannot be reused, or nil if it can.
    private func staleReason() async throws -> String? {
        guard let marker = try? String(contentsOfFile: markerPath, encoding: .utf8) else { return "no marker" }
        guard marker == markerText else { return "its marker describes another store" }
        do {
            let store = try FileEventStore.open(directory: storeDirectory, options: StoreOptions())
            let lastPosition = store.openReport.lastPosition
            try await store.close()
            guard lastPosition == UInt64(layout.eventCount) else {
                return "it holds \(lastPosition) events, not \(layout.eventCount)"
            }
        } catch EventStoreError.storeLocked(let path) {
            // Another run is using it: rebuilding would pull it from under that run.
            throw BenchmarkError("the kept store \(path) is in use by another process; wait for it or use another --dir")
        } catch {
            return "it did not open: \(error)"
        }
        return nil
    }
}
