// A clean close seals an active segment that is over an eighth full, so the next
// open loads no checkpoint of it (its index file is read on first use, as every
// sealed segment's), and one that holds less keeps its checkpoint: no trail of
// small segments from processes that append a little between opens.
import EventSourcing
import Foundation
import Synchronization
import Testing

@testable import EventLog

@Suite struct SealOnCloseTests {
    static let segmentSizeBytes = 1 << 20
    static let thresholdBytes = Int(Double(segmentSizeBytes) * LogConfiguration.sealOnCloseFraction)
    static let eventBytes = 1_000

    static var options: StoreOptions { testOptions(segmentSizeBytes: segmentSizeBytes, durability: .none) }

    /// Appends `count` events of ``eventBytes`` each, one call each, over three streams.
    static func append(_ count: Int, from first: Int = 0, to store: FileEventStore) async throws {
        for n in first..<(first + count) {
            try await store.append([event("Filled", n, bytes: eventBytes)], to: StreamName("fill-\(n % 3)"))
        }
    }

    static func indexHeader(of segment: String) throws -> IndexHeader {
        try FileIndex.readHeader(path: segment.replacingOccurrences(of: ".seg", with: ".idx"), fileSystem: PosixFileSystem())
    }

    /// Events that fill the active segment past the threshold, and fewer that do not.
    static let overThreshold = thresholdBytes / eventBytes + 10
    static let underThreshold = thresholdBytes / eventBytes / 2

    /// After a sealing close the active segment is empty, so a writer's timestamps
    /// go on from the sealed segment's last one (its index header, which the open
    /// reads for the writer alone): not from the clock, which went back meanwhile.
    @Test func timestampsDoNotGoBackAfterASealingCloseWhenTheClockDid() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let clock = Atomic<Int64>(2_000_000_000_000_000)
        let store = try FileEventStore.open(
            directory: folder.path, options: Self.options, fileSystem: PosixFileSystem(), wallClock: { clock.load(ordering: .relaxed) })
        try await Self.append(Self.overThreshold, to: store)
        try await store.close()
        #expect(try segmentFiles(folder.path).count == 2, "sealed at close")

        clock.store(1_000_000_000_000_000, ordering: .relaxed)
        let reopened = try FileEventStore.open(
            directory: folder.path, options: Self.options, fileSystem: PosixFileSystem(), wallClock: { clock.load(ordering: .relaxed) })
        try await reopened.append([event("After")], to: "fill-0")
        let timestamps = try reopened.readAll().map(\.timestampMicroseconds)
        #expect(timestamps.last == 2_000_000_000_000_000)
        #expect(zip(timestamps, timestamps.dropFirst()).allSatisfy { $0 <= $1 }, "timestamps never decrease with position")
        try await reopened.close()
    }

    @Test func aCloseSealsASegmentOverAnEighthFullAndTheNextOpenLoadsNoCheckpoint() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: Self.options)
        try await Self.append(Self.overThreshold, to: store)
        try await store.close()

        let segments = try segmentFiles(folder.path)
        try #require(segments.count == 2, "sealed at close, and an empty active segment after it")
        #expect(try Self.indexHeader(of: segments[0]).isPartial == false, "the sealed segment has its final index file")
        #expect(!FileManager.default.fileExists(atPath: segments[1].replacingOccurrences(of: ".seg", with: ".idx")))
        #expect(try FileEventStore.verify(directory: folder.path).isHealthy)

        let reopened = try FileEventStore.open(directory: folder.path, options: Self.options)
        #expect(reopened.openReport.scannedRecords == 0)
        #expect(reopened.openReport.segmentCount == 2)
        #expect(reopened.openReport.rebuiltIndexes.isEmpty)
        #expect(try reopened.readAll().map(\.position.rawValue) == Array(1...UInt64(Self.overThreshold)))
        #expect(try reopened.readStream("fill-1").count == Self.overThreshold / 3)
        // Appends continue in the new segment, at the next position and versions.
        let result = try await reopened.append([event("After")], to: "fill-0")
        #expect(result.firstPosition.rawValue == UInt64(Self.overThreshold) + 1)
        #expect(result.nextExpectedVersion.rawValue == UInt64((Self.overThreshold + 2) / 3) + 1)
        try await reopened.close()
        #expect(try segmentFiles(folder.path).count == 2, "one small event does not seal again")
        #expect(try Self.indexHeader(of: segments[1]).isPartial, "the small active segment has a checkpoint")
    }

    @Test func aSealingCloseNeedsNoSegmentsWorthOfFreeSpace() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let faulty = FaultInjectingFileSystem()
        let store = try FileEventStore.open(directory: folder.path, options: Self.options, fileSystem: faulty)
        try await Self.append(Self.overThreshold, to: store)
        // A disk with room for a header, not for a pre-allocated segment.
        faulty.arm(.init(operation: .allocate, afterCalls: 1, errno: ENOSPC, persistent: true))
        try await store.close()
        #expect(faulty.failuresInjected == 0, "the close allocated nothing")
        let segments = try segmentFiles(folder.path)
        try #require(segments.count == 2)
        #expect(try FileManager.default.attributesOfItem(atPath: segments[1])[.size] as? Int == SegmentHeader.size)

        // The next open's first write pre-allocates it, as for a trimmed segment.
        let reopened = try FileEventStore.open(directory: folder.path, options: Self.options)
        try await reopened.append([event("After")], to: "fill-0")
        #expect(try FileManager.default.attributesOfItem(atPath: segments[1])[.size] as? Int == Self.segmentSizeBytes)
        #expect(try reopened.readAll().count == Self.overThreshold + 1)
        try await reopened.close()
    }

    @Test func aCloseOfASegmentUnderAnEighthFullKeepsItActiveWithACheckpoint() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: Self.options)
        try await Self.append(Self.underThreshold, to: store)
        try await store.close()
        let segments = try segmentFiles(folder.path)
        try #require(segments.count == 1)
        #expect(try Self.indexHeader(of: segments[0]).isPartial)
        let reopened = try FileEventStore.open(directory: folder.path, options: Self.options)
        #expect(reopened.openReport.scannedRecords == 0, "the checkpoint covers every record")
        #expect(try reopened.readAll().count == Self.underThreshold)
        try await reopened.close()
    }

    @Test func opensAndClosesThatAppendLittleAddNoSegments() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        var appended = 0
        // The first session fills the segment past the threshold; later ones add a
        // little each, and only the session that takes it past the threshold again seals.
        for session in 0..<6 {
            let store = try FileEventStore.open(directory: folder.path, options: Self.options)
            let count = session == 0 ? Self.overThreshold : Self.underThreshold / 2
            try await Self.append(count, from: appended, to: store)
            appended += count
            try await store.close()
            let sealedSoFar = try segmentFiles(folder.path).count - 1
            // Sessions 1-4 add about a quarter of the threshold each: the fourth
            // takes the new segment past it.
            #expect(sealedSoFar == (session < 4 ? 1 : 2), "session \(session)")
        }
        let store = try FileEventStore.open(directory: folder.path, options: Self.options)
        #expect(try store.readAll().map(\.position.rawValue) == Array(1...UInt64(appended)))
        try await store.close()
    }
}
