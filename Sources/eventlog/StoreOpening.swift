// Every command opens its store through here, so that an open that takes long
// (index files rebuilt after damage, a whole active segment read after a crash)
// shows a progress line on a terminal like the other long work.
import EventLog

enum StoreOpening {
    /// Opens the store in `directory`, drawing a progress line of segments opened
    /// while it takes more than a moment and standard error is a terminal.
    /// - Throws: What ``FileEventStore/open(directory:options:progress:)`` throws.
    static func open(_ directory: String, options: StoreOptions) throws -> FileEventStore {
        var bar = ProgressBar(unit: "segments")
        defer { bar.finish() }
        return try FileEventStore.open(directory: directory, options: options) { progress in
            bar.update(
                done: UInt64(progress.segmentsOpened),
                fraction: progress.segmentCount > 0 ? Double(progress.segmentsOpened) / Double(progress.segmentCount) : nil)
        }
    }
}
