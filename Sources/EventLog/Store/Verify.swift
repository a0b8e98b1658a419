// `verify`: read every byte of a store back and report, without repairing
// anything, whether every record, header and footer holds.
import EventSourcing
import Foundation

/// A damaged place found by ``FileEventStore/verify(directory:progress:)``.
public struct VerifyProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// The byte offset in the file.
    public var offset: UInt64
    /// What is wrong.
    public var reason: String

    /// The problem in one line: file, byte offset and reason.
    public var description: String { "\(file) at byte offset \(offset): \(reason)" }
}

/// What ``FileEventStore/verify(directory:progress:)`` found.
public struct VerifyReport: Sendable, Hashable {
    /// Segment files checked.
    public var segments = 0
    /// Records whose checksum and structure hold.
    public var events: UInt64 = 0
    /// Bytes of records read.
    public var recordBytes: UInt64 = 0
    /// The last position of a valid record.
    public var lastPosition: UInt64 = 0
    /// A torn tail (not corruption: recovery discards it on the next writer open).
    public var tornTail: TornTail?
    /// Corruption found.
    public var problems: [VerifyProblem] = []

    /// Whether no corruption was found.
    public var isHealthy: Bool { problems.isEmpty }
}

extension FileEventStore {
    /// Checks every segment of the store in `directory`: headers, every record's
    /// checksum, structure and position, footers against their records, and the
    /// chain of positions across segments. Takes no lock and changes nothing, so it
    /// runs beside a writer (it then checks what was durable when it started).
    ///
    /// - Parameter progress: called after each segment with (segments done, total).
    /// - Throws: ``EventStoreError/incompatibleStore(path:reason:)`` if the folder is
    ///   not a store; ``EventStoreError/io(operation:path:errno:message:)``.
    ///   Corruption is reported, not thrown.
    /// - Complexity: O(size of the log).
    public static func verify(
        directory: String, progress: ((Int, Int) -> Void)? = nil
    ) throws -> VerifyReport {
        try verify(directory: directory, fileSystem: PosixFileSystem(), progress: progress)
    }

    static func verify(directory: String, fileSystem: any FileSystem, progress: ((Int, Int) -> Void)?) throws -> VerifyReport {
        try translatingSystemErrors {
            let manifestPath = directory + "/" + StoreManifest.fileName
            guard fileSystem.exists(manifestPath) else {
                throw EventStoreError.incompatibleStore(path: directory, reason: "there is no store here (no \(StoreManifest.fileName) file)")
            }
            var report = VerifyReport()
            let manifest: StoreManifest
            do {
                manifest = try fileSystem.readWholeFile(manifestPath).withUnsafeBytes { try StoreManifest.decode($0) }
            } catch {
                report.problems.append(VerifyProblem(file: manifestPath, offset: 0, reason: String(describing: error)))
                return report
            }
            let names = try fileSystem.listDirectory(directory).filter { SegmentFileName.firstPosition(of: $0) != nil }.sorted()
            var expectedFirst: UInt64 = 1
            for (index, name) in names.enumerated() {
                let path = directory + "/" + name
                let file = try fileSystem.open(path, mode: .readOnly)
                defer { try? fileSystem.close(file) }
                report.segments += 1
                do {
                    let reading = try SegmentReader.read(
                        file, fileSystem: fileSystem, storeID: manifest.storeID, expectedFirstPosition: expectedFirst
                    ) { _ in }
                    report.events += reading.recordCount
                    report.recordBytes += reading.committedEnd - UInt64(SegmentHeader.size)
                    report.lastPosition = reading.lastPosition
                    if reading.footer == nil && index < names.count - 1 {
                        report.problems.append(VerifyProblem(
                            file: path, offset: reading.committedEnd, reason: "segment is not sealed, yet later segments exist"))
                    }
                    if case .torn(_, let reason, let discarded) = reading.tail {
                        report.tornTail = TornTail(file: path, offset: reading.committedEnd, discardedRecords: discarded, reason: reason)
                    }
                    expectedFirst = reading.lastPosition + 1
                } catch EventStoreError.corrupted(let file, let offset, let reason) {
                    report.problems.append(VerifyProblem(file: file, offset: offset, reason: reason))
                    // Carry on from where the next file says it starts, to report every damaged segment.
                    if index + 1 < names.count, let next = SegmentFileName.firstPosition(of: names[index + 1]) {
                        expectedFirst = next
                    }
                }
                progress?(index + 1, names.count)
            }
            return report
        }
    }
}
