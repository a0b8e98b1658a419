// The large stores cost tens of seconds to build, so they are kept between runs
// beside the scratch folder, with a marker saying what each holds; a store whose
// marker is missing or different, or that fails to open, is rebuilt.
import EventLog
import EventSourcing
import Foundation

/// A store kept between runs in `PARENT/eventlog-bench-<kind>-<label>/`: the store
/// in `store/`, and `marker.txt` written only after a complete build (and
/// ``finishing`` step) and clean close.
struct KeptStore: Sendable {
    /// Bump when the layout or the events change, so old stores are rebuilt.
    static let formatTag = "eventlog-bench-open-store-1"

    let folder: String
    let layout: StoreLayout
    /// Runs on the closed, built store before the marker is written (the
    /// compaction rows delete streams here), so an interrupted step means a rebuild.
    var finishing: (@Sendable (_ storeDirectory: String) async throws -> Void)?
    /// Marker lines saying what ``finishing`` did, so a change to it rebuilds the store.
    var finishingMarker = ""

    var storeDirectory: String { folder + "/store" }
    private var markerPath: String { folder + "/marker.txt" }

    /// - Parameter kind: which rows the store serves, in the folder name: `open`, `compact`.
    init(parentPath: String, kind: String = "open", label: String, layout: StoreLayout) {
        folder = "\(parentPath)/eventlog-bench-\(kind)-\(label)"
        self.layout = layout
    }

    /// What the marker says of a complete store with this layout.
    private var markerText: String {
        "format \(Self.formatTag)\nevents \(layout.eventCount)\nstreams \(layout.streamNames.count)\n"
            + "dataBytes \(BenchmarkEventFactory.dataSizeBytes)\n" + finishingMarker
    }

    /// Makes sure a complete store is in place: reuses a kept one whose marker
    /// matches and which opens with the expected last position; otherwise removes
    /// the folder and builds the store again. Returns a phrase for the row's note.
    func prepare(label: String) async throws -> String {
        if let reason = try await staleReason() {
            Progress.log("  \(label): building the kept store in \(folder) (\(reason))")
            if FileManager.default.fileExists(atPath: folder) { try FileManager.default.removeItem(atPath: folder) }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let started = MonotonicClock.nanoseconds()
            _ = try await StoreBuilder.build(layout, directory: storeDirectory, label: label)
            try await finishing?(storeDirectory)
            let seconds = MonotonicClock.seconds(from: started, to: MonotonicClock.nanoseconds())
            try Data(markerText.utf8).write(to: URL(fileURLWithPath: markerPath))
            return "store built this run in \(NumberFormatting.decimal(seconds, decimals: 1)) s, kept in \(folder)"
        }
        Progress.log("  \(label): reusing the kept store in \(folder)")
        return "kept store reused from \(folder)"
    }

    /// Runs `body` on a working copy of the store made in `directory` (see
    /// ``StoreCopy``), removes the copy, and checks that nothing was written
    /// through it into the kept store; if something was, the kept store is
    /// removed (the next run builds it again) and the check's error thrown.
    func withWorkingCopy<T>(in directory: String, _ body: (_ directory: String) async throws -> T) async throws -> T {
        let copy = try StoreCopy.make(from: storeDirectory, to: directory)
        let result: T
        do {
            result = try await body(directory)
        } catch {
            try? copy.remove()
            throw error
        }
        try copy.remove()
        do {
            try copy.verifySourceUnchanged()
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        return result
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
