// `repair`: the explicit, never automatic, way past corruption in the middle of
// the log. It cuts the log at the last complete append call before the damage,
// keeps a backup of everything it cuts, and says how many events went.
import EventSourcing
import Foundation

/// What ``FileEventStore/repair(directory:)`` did.
public struct RepairReport: Sendable, Hashable {
    /// The corruption that made the cut, or nil if the store was healthy (nothing done).
    public var corruption: VerifyProblem?
    /// The last position kept (0: nothing kept).
    public var lastPositionKept: UInt64 = 0
    /// The highest position found in what was cut (an upper bound of what was lost).
    public var lastPositionCut: UInt64 = 0
    /// Events removed: `lastPositionCut - lastPositionKept`.
    public var eventsRemoved: UInt64 { lastPositionCut > lastPositionKept ? lastPositionCut - lastPositionKept : 0 }
    /// The folder holding the backup of everything cut.
    public var backupDirectory: String?
    /// Files moved into the backup whole.
    public var filesMoved: [String] = []
}

extension FileEventStore {
    /// Cuts the store in `directory` at the last complete append call before its
    /// first corruption. The cut bytes of the damaged segment and every later segment
    /// and index file go to a new `repair-backup-…` folder inside the store folder
    /// first. Takes the writer lock: no writer may run meanwhile.
    ///
    /// - Throws: ``EventStoreError/storeLocked(path:)`` if a writer holds the store.
    /// - Complexity: O(size of the log) (it verifies everything first).
    public static func repair(directory: String) throws -> RepairReport {
        let fileSystem = PosixFileSystem()
        return try translatingSystemErrors {
            let lockFile = try fileSystem.open(directory + "/LOCK", mode: .createOrOpen)
            defer { try? fileSystem.close(lockFile) }
            guard try fileSystem.tryLockExclusive(lockFile) else { throw EventStoreError.storeLocked(path: directory) }

            let verification = try verify(directory: directory, fileSystem: fileSystem, progress: nil)
            var report = RepairReport()
            guard let problem = verification.problems.first else {
                report.lastPositionKept = verification.lastPosition
                return report
            }
            report.corruption = problem
            let manifest = try fileSystem.readWholeFile(directory + "/" + StoreManifest.fileName).withUnsafeBytes {
                try StoreManifest.decode($0)
            }
            let names = try fileSystem.listDirectory(directory).filter { SegmentFileName.firstPosition(of: $0) != nil }.sorted()
            guard let damaged = names.firstIndex(where: { directory + "/" + $0 == problem.file }) else {
                throw EventStoreError.corrupted(file: problem.file, offset: problem.offset, reason: "\(problem.reason) (not a segment: repair cannot cut it)")
            }

            // Where to cut: after the last complete call before the damage.
            let file = try fileSystem.open(problem.file, mode: .readWrite)
            defer { try? fileSystem.close(file) }
            let size = try fileSystem.size(file)
            let firstPosition = SegmentFileName.firstPosition(of: names[damaged])!
            var cut: UInt64 = 0
            report.lastPositionKept = firstPosition - 1
            // A compacted segment (positions may skip, every record stands alone) stays
            // sealed: it gets a new footer after the records kept.
            var header = [UInt8](repeating: 0, count: SegmentHeader.size)
            _ = try header.withUnsafeMutableBytes { try fileSystem.read(file, into: $0, at: 0) }
            let isCompacted = (try? header.withUnsafeBytes { try SegmentHeader.decode($0) })?.isCompacted ?? false
            var keptCount: UInt64 = 0
            var keptChecksum: UInt32 = 0
            if problem.offset >= UInt64(SegmentHeader.size) {
                cut = UInt64(SegmentHeader.size)
                var scanner = RecordScanner(fileSystem: fileSystem)
                _ = try scanner.scan(
                    file, from: cut, to: min(problem.offset, size), firstPosition: firstPosition, allowingGaps: isCompacted
                ) { view, offset in
                    if view.isLastOfCall || isCompacted {
                        cut = offset + UInt64(view.length)
                        report.lastPositionKept = view.position
                        keptCount += 1
                        withUnsafeBytes(of: view.checksum.littleEndian) { keptChecksum = CRC32C.checksum($0, seed: keptChecksum) }
                    }
                    return true
                }
            }
            report.lastPositionCut = max(report.lastPositionKept, highestPosition(after: cut, in: file, size: size, fileSystem: fileSystem))

            // Back up first, then cut.
            let backup = directory + "/repair-backup-\(Clock.wallMicroseconds())"
            try fileSystem.makeDirectory(backup)
            // The backup's own entry must be durable before anything is cut.
            try fileSystem.syncDirectory(directory)
            report.backupDirectory = backup
            var tail = [UInt8](repeating: 0, count: Int(size - cut))
            let read = try tail.withUnsafeMutableBytes { try fileSystem.read(file, into: $0, at: cut) }
            try fileSystem.writeAtomically(Array(tail.prefix(read)), to: backup + "/" + names[damaged] + ".cut-at-\(cut)", directory: backup)
            let later = names[(damaged + 1)...]
            for name in later {
                guard let laterFile = try? fileSystem.open(directory + "/" + name, mode: .readOnly) else { continue }
                defer { try? fileSystem.close(laterFile) }
                let laterSize = (try? fileSystem.size(laterFile)) ?? 0
                report.lastPositionCut = max(
                    report.lastPositionCut, highestPosition(after: UInt64(SegmentHeader.size), in: laterFile, size: laterSize, fileSystem: fileSystem))
            }
            var moving = later.map { $0 }
            for name in [names[damaged]] + later {
                let index = String(name.dropLast(SegmentFileName.suffix.count)) + ".idx"
                if fileSystem.exists(directory + "/" + index) { moving.append(index) }
            }
            for name in moving {
                try fileSystem.rename(directory + "/" + name, to: backup + "/" + name)
                report.filesMoved.append(name)
            }
            try fileSystem.syncDirectory(backup)
            if cut == 0 {
                try fileSystem.rename(problem.file, to: backup + "/" + names[damaged])
                report.filesMoved.append(names[damaged])
            } else if isCompacted {
                let footer = SegmentFooter(
                    lastPosition: report.lastPositionKept, recordCount: keptCount, recordsEndOffset: cut, recordsChecksum: keptChecksum)
                try footer.encoded().withUnsafeBytes { try fileSystem.write(file, $0, at: cut) }
                try fileSystem.truncate(file, toSizeBytes: cut + UInt64(SegmentFooter.size))
                try fileSystem.sync(file)
            } else {
                try fileSystem.truncate(file, toSizeBytes: cut)
                try fileSystem.allocate(file, sizeBytes: max(manifest.segmentSizeBytes, cut))
                try fileSystem.sync(file)
            }
            try fileSystem.syncDirectory(directory)
            return report
        }
    }

    /// The highest position of any valid record after `offset` (for the report).
    private static func highestPosition(after offset: UInt64, in file: OpenFile, size: UInt64, fileSystem: any FileSystem) -> UInt64 {
        var highest: UInt64 = 0
        var start = offset
        var scanner = RecordScanner(fileSystem: fileSystem)
        while start < size, let found = try? scanner.findValidRecord(file, from: start, to: size, afterPosition: highest),
            let at = found.validRecordOffset
        {
            _ = try? scanner.scan(file, from: at, to: size, firstPosition: nil) { view, _ in
                highest = max(highest, view.position)
                return true
            }
            start = at + 1
        }
        return highest
    }
}
