import EventSourcing
import Foundation
import Testing

@_spi(Fuzzing) @testable import EventLog

/// A plain model of what a store should answer: every event in position order.
struct LogModel {
    var events: [RecordedEvent] = []

    func stream(_ name: StreamName, from version: UInt64, direction: ReadDirection, maxCount: Int) -> [RecordedEvent] {
        let all = events.filter { $0.stream == name }
        let picked = direction == .forward
            ? all.filter { $0.version.rawValue >= version } : all.filter { $0.version.rawValue <= version }.reversed()
        return Array(picked.prefix(maxCount))
    }

    func all(from position: UInt64, direction: ReadDirection, maxCount: Int, filter: EventFilter) -> [RecordedEvent] {
        let picked = direction == .forward
            ? events.filter { $0.position.rawValue >= position } : events.filter { $0.position.rawValue <= position }.reversed()
        return Array(picked.filter(filter.matches).prefix(maxCount))
    }
}

/// A seeded generator, so a failing case replays.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct IndexFormatTests {
    func sampleIndex(records: Int, streams: Int) -> MemoryIndex {
        var index = MemoryIndex(firstPosition: 1_001)
        var offset: UInt64 = 64
        var versions = [UInt64](repeating: 0, count: streams)
        for record in 0..<records {
            let stream = record * 7 % streams
            versions[stream] += 1
            index.append(PendingRecord(
                offset: offset, length: 100, checksum: UInt32(record), position: 1_001 + UInt64(record),
                streamHash: StreamHash.of("s-\(stream)"), version: versions[stream], type: "T\(record % 3)",
                category: "s", timestampMicroseconds: 1_000 + Int64(record)))
            offset += 100
        }
        return index
    }

    /// Type and category ids survive runs and switches (the index remembers the
    /// last id it gave out, and must not hand it to another name).
    @Test func typeAndCategoryIDsFollowTheNamesThroughRunsAndSwitches() {
        var index = MemoryIndex(firstPosition: 1)
        let names = [("A", "x"), ("A", "x"), ("B", "x"), ("A", "y"), ("C", "y"), ("B", "x"), ("B", "x")]
        for (record, (type, category)) in names.enumerated() {
            index.append(PendingRecord(
                offset: 64 + UInt64(record) * 100, length: 100, checksum: 0, position: 1 + UInt64(record),
                streamHash: 1, version: 1 + UInt64(record), type: type, category: category, timestampMicroseconds: 0))
        }
        #expect(index.typeNames == ["A", "B", "C"])
        #expect(index.categoryNames == ["x", "y"])
        for type in ["A", "B", "C"] {
            let expected = names.indices.filter { names[$0].0 == type }
            #expect(index.recordIndexes(matching: EventFilter(eventTypes: [type]), from: 0) == expected, "\(type)")
        }
        #expect(index.recordIndexes(matching: EventFilter(categories: ["y"]), from: 0) == [3, 4])
    }

    @Test func anIndexFileRoundTripsAndAnswersLikeTheMemoryIndex() throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let memory = sampleIndex(records: 3_000, streams: 50)
        let bytes = memory.encoded(storeID: UUID(), isPartial: true)
        let (decoded, header) = try bytes.withUnsafeBytes { try MemoryIndex.decode($0) }
        #expect(header.isPartial && header.recordCount == 3_000 && header.firstPosition == 1_001)
        #expect(decoded.records.map(\.offset) == memory.records.map(\.offset))
        #expect(decoded.recordsChecksum == memory.recordsChecksum && decoded.recordsEnd == memory.recordsEnd)

        let path = folder.file("index.idx")
        try write(bytes, to: path)
        let file = FileIndex(
            path: path, header: try FileIndex.readHeader(path: path, fileSystem: PosixFileSystem()),
            fileSystem: PosixFileSystem(), cache: IndexCache(budgetBytes: 1 << 20))
        for stream in 0..<50 {
            let hash = StreamHash.of("s-\(stream)")
            #expect(try file.streamEntries(hash: hash) == memory.streamEntries(hash: hash), "stream \(stream)")
            #expect(decoded.streamEntries(hash: hash) == memory.streamEntries(hash: hash))
        }
        #expect(try file.streamEntries(hash: StreamHash.of("absent")).isEmpty)
        #expect(try file.records(1_000..<1_700).map(\.offset) == memory.records[1_000..<1_700].map(\.offset))
        let filter = EventFilter(eventTypes: ["T1"])
        #expect(try file.recordIndexes(matching: filter, from: 10) == memory.recordIndexes(matching: filter, from: 10))
        #expect(try file.recordIndexes(matching: EventFilter(eventTypes: ["nope"]), from: 0) == [])
        #expect(try file.timeSearchStart(atOrAfter: 2_600) <= 1_600)
    }

    /// Over its budget, the cache drops the directory used least recently: a lookup
    /// counts as a use, so the directory read again stays and the other one goes.
    @Test func theIndexCacheEvictsTheLeastRecentlyUsedDirectory() throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let bytes = sampleIndex(records: 3_000, streams: 50).encoded(storeID: UUID(), isPartial: false)
        func indexFile(_ name: String, cache: IndexCache) throws -> FileIndex {
            let path = folder.file(name)
            try write(bytes, to: path)
            return FileIndex(
                path: path, header: try FileIndex.readHeader(path: path, fileSystem: PosixFileSystem()),
                fileSystem: PosixFileSystem(), cache: cache)
        }
        let probe = try indexFile("probe.idx", cache: IndexCache(budgetBytes: 1 << 30))
        _ = try probe.streamEntries(hash: StreamHash.of("s-1"))
        let directoryBytes = probe.loadedBytes
        #expect(directoryBytes > 0)

        // Room for two directories, not three.
        let cache = IndexCache(budgetBytes: 2 * directoryBytes + directoryBytes / 2)
        let (first, second, third) = (try indexFile("a.idx", cache: cache), try indexFile("b.idx", cache: cache), try indexFile("c.idx", cache: cache))
        for (stream, index) in [first, second, first].enumerated() { _ = try index.streamEntries(hash: StreamHash.of("s-\(stream)")) }
        #expect(cache.totalBytes == 2 * directoryBytes)
        _ = try third.streamEntries(hash: StreamHash.of("s-3"))
        #expect(first.loadedBytes == directoryBytes, "read again after the second: kept")
        #expect(second.loadedBytes == 0, "the least recently used: evicted")
        #expect(third.loadedBytes == directoryBytes)
        #expect(cache.totalBytes == 2 * directoryBytes)
    }

    /// A checkpoint's streams are kept flat until a stream is appended to again: the
    /// loaded index, appended to, must answer and encode exactly as one built from
    /// every record in order.
    @Test func aLoadedCheckpointAppendedToAnswersAndEncodesLikeOneBuiltInOrder() throws {
        let storeID = UUID()
        func record(_ number: Int) -> PendingRecord {
            // 7 streams; records from 300 on also go to two new streams.
            let stream = number >= 300 && number % 5 == 0 ? 7 + number % 2 : number * 3 % 7
            return PendingRecord(
                offset: 64 + UInt64(number) * 100, length: 100, checksum: UInt32(number), position: 1 + UInt64(number),
                streamHash: StreamHash.of("s-\(stream)"), version: 1 + UInt64(number), type: "T\(number % 3)",
                category: "s", timestampMicroseconds: 1_000 + Int64(number))
        }
        var built = MemoryIndex(firstPosition: 1)
        var checkpoint = MemoryIndex(firstPosition: 1)
        for number in 0..<300 {
            built.append(record(number))
            checkpoint.append(record(number))
        }
        var (loaded, _) = try checkpoint.encoded(storeID: storeID, isPartial: true).withUnsafeBytes { try MemoryIndex.decode($0) }
        #expect(loaded.streamHashCount == 7 && loaded.streamEntryCount == 300)
        for number in 300..<700 {
            built.append(record(number))
            loaded.append(record(number))
        }
        #expect(loaded.streamHashCount == 9 && loaded.streamEntryCount == 700)
        for stream in 0..<10 {
            let hash = StreamHash.of("s-\(stream)")
            #expect(loaded.streamEntries(hash: hash) == built.streamEntries(hash: hash), "stream \(stream)")
        }
        #expect(loaded.encoded(storeID: storeID, isPartial: true) == built.encoded(storeID: storeID, isPartial: true))
        let tallied = loaded.tally().streams
        #expect(tallied.count == 9)
        for (hash, value) in built.tally().streams {
            #expect(tallied[hash]?.count == value.count && tallied[hash]?.last == value.last)
        }
    }

    /// A loaded checkpoint's entries are found by binary search, which is only right
    /// when the file keeps the encoder's order: checksummed entries out of order are
    /// refused, not silently missed.
    @Test func streamEntriesOutOfOrderAreRefusedEvenWithValidChecksums() throws {
        let memory = sampleIndex(records: 40, streams: 3)
        var bytes = memory.encoded(storeID: UUID(), isPartial: true)
        let header = try bytes.withUnsafeBytes { try IndexHeader.decode($0) }
        // The first entry (the lowest hash) moved to the end of the stream entries.
        let first = header.streamsStart
        let size = IndexLayout.streamEntrySize
        let moved = Array(bytes[first..<(first + size)])
        bytes.removeSubrange(first..<(first + size))
        bytes.insert(contentsOf: moved, at: header.recordsStart - size)
        FuzzTargets.fixIndexChecksums(&bytes)
        #expect {
            try bytes.withUnsafeBytes { try MemoryIndex.decode($0) }
        } throws: { error in
            (error as? FormatError)?.reason.contains("not sorted") == true
        }
    }

    /// A decoded index's stream entries must name exactly its records (checked by a
    /// fingerprint of both, `RecordNaming`): an entry moved to another record, to a
    /// record past the table, or to a position compaction removed is refused, even
    /// when every checksum is valid.
    @Test func streamEntriesNamingOtherRecordsAreRefusedEvenWithValidChecksums() throws {
        func refusal(of memory: MemoryIndex, _ change: (inout [UInt8], Int) -> Void) throws -> String? {
            var bytes = memory.encoded(storeID: UUID(), isPartial: !memory.isCompacted)
            let header = try bytes.withUnsafeBytes { try IndexHeader.decode($0) }
            change(&bytes, header.streamsStart + 5 * IndexLayout.streamEntrySize)  // the sixth entry
            FuzzTargets.fixIndexChecksums(&bytes)
            do {
                _ = try bytes.withUnsafeBytes { try MemoryIndex.decode($0) }
                return nil
            } catch {
                return (error as? FormatError)?.reason ?? "\(error)"
            }
        }
        func store(_ value: UInt32, in bytes: inout [UInt8], at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
        }
        let memory = sampleIndex(records: 40, streams: 3)
        #expect(try refusal(of: memory) { _, _ in } == nil, "the unchanged file decodes")
        // Its record offset: another record's (its record index unchanged).
        #expect(try refusal(of: memory) { bytes, entry in
            let offset = bytes.withUnsafeBytes { $0.loadLE(UInt32.self, at: entry + 20) }
            store(offset == 64 ? 164 : 64, in: &bytes, at: entry + 20)
        }?.contains("disagree") == true)
        // Its record index and offset: another record's, which its own entry names too.
        #expect(try refusal(of: memory) { bytes, entry in
            let recordIndex = bytes.withUnsafeBytes { $0.loadLE(UInt32.self, at: entry + 16) }
            let other: UInt32 = recordIndex == 0 ? 1 : 0
            store(other, in: &bytes, at: entry + 16)
            store(64 + 100 * other, in: &bytes, at: entry + 20)
        }?.contains("disagree") == true)
        #expect(try refusal(of: memory) { bytes, entry in
            store(40, in: &bytes, at: entry + 16)
        }?.contains("past the record table") == true)

        // A compacted segment's index: positions 1_003 and 1_004 removed.
        var compacted = MemoryIndex(firstPosition: 1_001, isCompacted: true)
        for (record, position) in [1_001, 1_002, 1_005, 1_006, 1_007, 1_008, 1_009].enumerated() {
            compacted.append(PendingRecord(
                offset: 64 + UInt64(record) * 100, length: 100, checksum: 0, position: UInt64(position),
                streamHash: StreamHash.of("s-\(record % 2)"), version: UInt64(record / 2 + 1), type: "T",
                category: "s", timestampMicroseconds: 0))
        }
        #expect(try refusal(of: compacted) { _, _ in } == nil, "the unchanged file decodes")
        #expect(try refusal(of: compacted) { bytes, entry in
            store(2, in: &bytes, at: entry + 16)  // position 1_003, removed
            store(0, in: &bytes, at: entry + 20)
        }?.contains("disagree") == true)
    }

    @Test func everyFlippedByteOfAnIndexFileIsDetected() throws {
        let bytes = sampleIndex(records: 600, streams: 7).encoded(storeID: UUID(), isPartial: false)
        for index in stride(from: 0, to: bytes.count, by: 1) {
            var damaged = bytes
            damaged[index] ^= 0x08
            let decoded = try? damaged.withUnsafeBytes { try MemoryIndex.decode($0) }
            #expect(decoded == nil, "flip at byte \(index) of \(bytes.count) went undetected")
        }
    }

    @Test func theBloomFilterHasNoFalseNegativesAndFewFalsePositives() {
        var bloom = BloomFilter(keyCount: 1_000)
        for key in 0..<1_000 { bloom.insert(StreamHash.of("in-\(key)")) }
        #expect((0..<1_000).allSatisfy { bloom.mayContain(StreamHash.of("in-\($0)")) })
        let falsePositives = (0..<10_000).filter { bloom.mayContain(StreamHash.of("out-\($0)")) }.count
        #expect(falsePositives < 300, "about 1% expected, got \(falsePositives) of 10,000")
    }
}

@Suite struct IndexedStoreTests {
    /// Random appends over many streams, rolling many segments, every read compared
    /// with the model; then again after a clean reopen (index files and checkpoint)
    /// and after a crash-like reopen (no checkpoint).
    @Test(arguments: [1, 2, 3] as [UInt64])
    func readsMatchTheModelThroughTheIndexes(seed: UInt64) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        var random = SeededGenerator(seed: seed)
        var options = testOptions(segmentSizeBytes: 64 * 1024)
        options.streamCacheCapacity = 8  // most expected-version checks go through the indexes
        var store = try FileEventStore.open(directory: folder.path, options: options)
        var model = LogModel()
        var versions: [StreamName: UInt64] = [:]
        let streams = (0..<40).map { StreamName(unchecked: "\(["order", "cart", "user"][$0 % 3])-\($0)") }
        for _ in 0..<600 {
            let stream = streams[Int.random(in: 0..<streams.count, using: &random)]
            let count = Int.random(in: 1...3, using: &random)
            let events = (0..<count).map { _ in event(["Created", "Changed", "Closed"][Int.random(in: 0..<3, using: &random)], 1, bytes: 200) }
            let expected = versions[stream] ?? 0
            let result = try await store.append(events, to: stream, expectedVersion: .exact(StreamVersion(expected)))
            versions[stream] = expected + UInt64(count)
            #expect(result.nextExpectedVersion.rawValue == expected + UInt64(count))
        }
        model.events = try store.readAll()
        #expect(model.events.count == Int(store.lastPosition.rawValue))
        #expect(try segmentFiles(folder.path).count > 3)

        func compareEverything(_ store: FileEventStore, _ label: String, random: inout SeededGenerator) throws {
            for stream in streams {
                let last = versions[stream] ?? 0
                #expect(try store.version(of: stream).rawValue == last, "\(label) version of \(stream)")
                for _ in 0..<3 {
                    let from = UInt64.random(in: 0...(last + 1), using: &random)
                    let maxCount = Int.random(in: 1...50, using: &random)
                    for direction in [ReadDirection.forward, .backward] {
                        let got = try store.readStream(stream, from: StreamVersion(from), direction: direction, maxCount: maxCount)
                        #expect(got == model.stream(stream, from: from, direction: direction, maxCount: maxCount), "\(label) \(stream) from \(from) \(direction)")
                    }
                }
            }
            let end = UInt64(model.events.count)
            for _ in 0..<20 {
                let from = UInt64.random(in: 1...end, using: &random)
                let maxCount = Int.random(in: 1...400, using: &random)
                let filter = [EventFilter.all, EventFilter(categories: ["cart"]), EventFilter(eventTypes: ["Closed"]),
                              EventFilter(categories: ["user"], eventTypes: ["Created", "Changed"])][Int.random(in: 0..<4, using: &random)]
                for direction in [ReadDirection.forward, .backward] {
                    let got = try store.readAll(from: GlobalPosition(from), direction: direction, maxCount: maxCount, filter: filter)
                    #expect(got == model.all(from: from, direction: direction, maxCount: maxCount, filter: filter), "\(label) all from \(from) \(direction)")
                }
            }
            #expect(try store.readAll(from: .end, direction: .backward, maxCount: 1).first == model.events.last)
            // Time: the first event at or after each sampled event's own timestamp.
            for sample in stride(from: 0, to: model.events.count, by: 97) {
                let timestamp = model.events[sample].timestampMicroseconds
                let expected = model.events.first { $0.timestampMicroseconds >= timestamp }!.position
                let date = Date(timeIntervalSince1970: Double(timestamp) / 1_000_000)
                #expect(try store.firstPosition(atOrAfter: date) == expected, "\(label) time \(timestamp)")
            }
            #expect(try store.firstPosition(atOrAfter: Date().addingTimeInterval(3_600)) == nil)
        }

        try compareEverything(store, "live", random: &random)
        try await store.close()
        store = try FileEventStore.open(directory: folder.path, options: options)
        #expect(store.openReport.scannedRecords == 0, "a clean close leaves a checkpoint: nothing to scan")
        #expect(store.openReport.rebuiltIndexes.isEmpty)
        try compareEverything(store, "reopened", random: &random)
        try await store.close()
        try removeIndexFiles(folder.path)
        store = try FileEventStore.open(directory: folder.path, options: options)
        #expect(store.openReport.rebuiltIndexes.count == (try segmentFiles(folder.path).count) - 1)
        try compareEverything(store, "rebuilt", random: &random)
        // Appends continue with correct expected versions after all that.
        let stream = streams[0]
        try await store.append([event()], to: stream, expectedVersion: .exact(StreamVersion(versions[stream] ?? 0)))
        try await store.close()
    }

    @Test(arguments: ["missing", "truncated", "flipped header", "another segment's", "flipped directory", "flipped entries"])
    func aDamagedIndexFileIsRebuiltAndAnswersTheSame(damage: String) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let options = testOptions(segmentSizeBytes: 64 * 1024)
        var store = try FileEventStore.open(directory: folder.path, options: options)
        for n in 0..<300 { try await store.append([event("E", n, bytes: 400)], to: StreamName("d-\(n % 5)")) }
        let expectedStream = try store.readStream("d-3")
        let expectedAll = try store.readAll()
        try await store.close()

        let indexes = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".idx") }.sorted()
        #expect(indexes.count >= 2)
        let path = folder.file(indexes[0])
        let pristine = try bytes(of: path)
        var bytes = pristine
        switch damage {
        case "missing": try FileManager.default.removeItem(atPath: path)
        // A sound index file, of the next segment: its header's checksum holds.
        case "another segment's": try write(try EventLogTests.bytes(of: folder.file(indexes[1])), to: path)
        case "truncated": try write(Array(bytes.prefix(bytes.count / 2)), to: path)
        case "flipped header": bytes[40] ^= 1; try write(bytes, to: path)
        case "flipped directory": bytes[IndexLayout.headerSize + 3] ^= 1; try write(bytes, to: path)
        default: bytes[bytes.count - 5] ^= 1; try write(bytes, to: path)
        }
        store = try FileEventStore.open(directory: folder.path, options: options)
        // A missing index file is rebuilt at open; the others are read only on
        // demand (header, directory, entry blocks), so damage to them is rebuilt
        // when a read meets it. Either way the answers are the same.
        #expect(store.openReport.rebuiltIndexes == (damage == "missing" ? [path] : []))
        #expect(try store.readStream("d-3") == expectedStream)
        #expect(try store.readAll() == expectedAll)
        #expect(try store.readAll(from: .end, direction: .backward) == expectedAll.reversed())
        try await store.close()
        // The writer wrote the rebuilt index back at close (at open, for a missing
        // one): the same bytes as the index file that was damaged.
        #expect(try EventLogTests.bytes(of: path) == pristine)
    }

    /// An open reads no sealed segment's index directory (its Bloom filter alone is
    /// about 1.25 bytes per stream in the segment): those wait for the first read
    /// that needs them, so an open does not grow with the sealed segments.
    @Test func anOpenLoadsNoIndexDirectoryUntilAReadNeedsOne() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let options = testOptions(segmentSizeBytes: 64 * 1024)
        var store = try FileEventStore.open(directory: folder.path, options: options)
        for n in 0..<600 { try await store.append([event("E", n, bytes: 400)], to: StreamName("lazy-\(n % 7)")) }
        let expected = try store.readStream("lazy-3")
        try await store.close()
        #expect(try segmentFiles(folder.path).count > 3)

        store = try FileEventStore.open(directory: folder.path, options: options)
        #expect(store.openReport.rebuiltIndexes.isEmpty)
        #expect(store.cache.totalBytes == 0, "no directory read at open")
        #expect(try store.readStream("lazy-3") == expected)
        #expect(store.cache.totalBytes > 0, "the read loaded the directories it needed")
        try await store.close()
    }

    /// Nor does it open their index files (a header read is four system calls):
    /// at most the last sealed segment's, for the timestamp a writer goes on from.
    @Test func anOpenReadsNoSealedSegmentsIndexFile() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let options = testOptions(segmentSizeBytes: 64 * 1024)
        var store = try FileEventStore.open(directory: folder.path, options: options)
        for n in 0..<600 { try await store.append([event("E", n, bytes: 400)], to: StreamName("lazy-\(n % 7)")) }
        let expected = try store.readAll()
        try await store.close()
        #expect(try segmentFiles(folder.path).count > 3)

        for readOnly in [false, true] {
            let fileSystem = FaultInjectingFileSystem()
            var reopenOptions = options
            reopenOptions.readOnly = readOnly
            store = try FileEventStore.open(directory: folder.path, options: reopenOptions, fileSystem: fileSystem)
            let indexesOpened = fileSystem.openedPaths.filter { $0.hasSuffix(".idx") }
            #expect(indexesOpened.count <= (readOnly ? 0 : 1), "\(indexesOpened)")
            #expect(store.openReport.rebuiltIndexes.isEmpty)
            #expect(try store.readAll() == expected)
            #expect(try store.readStream("lazy-3") == expected.filter { $0.stream == "lazy-3" })
            try await store.close()
        }
    }

    @Test func aCrashBetweenSealAndIndexWriteRebuildsTheIndex() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let options = testOptions(segmentSizeBytes: 64 * 1024)
        let fileSystem = FaultInjectingFileSystem()
        var store = try FileEventStore.open(directory: folder.path, options: options, fileSystem: fileSystem)
        // Every rename fails: segments seal, but no index file is ever put in place.
        fileSystem.arm(.init(operation: .rename, afterCalls: 1, errno: Errno.io, persistent: true))
        for n in 0..<300 { try await store.append([event("E", n, bytes: 400)], to: StreamName("c-\(n % 4)")) }
        #expect(store.statistics.segmentsSealed > 0, "appends go on: index files are derived data")
        let expected = try store.readStream("c-2")
        try await store.close()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".idx") }.isEmpty)
        fileSystem.disarm()
        store = try FileEventStore.open(directory: folder.path, options: options)
        #expect(store.openReport.rebuiltIndexes.count == Int(try segmentFiles(folder.path).count) - 1)
        #expect(try store.readStream("c-2") == expected)
        try await store.close()
    }

    @Test func aMultiStreamAppendTornByACrashLeavesNoneOfItsStreams() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: testOptions(segmentSizeBytes: 1 << 20))
        try await store.append([event()], to: "a-1")
        try await store.append([
            StreamAppend(stream: "a-1", events: [event(), event()]),
            StreamAppend(stream: "b-1", events: [event(), event()]),
        ])
        try await store.close()
        try removeIndexFiles(folder.path)
        // Cut the last record (b-1's second event): the whole call must go.
        let segment = try #require(try segmentFiles(folder.path).last)
        var bytes = try bytes(of: segment)
        let readBack = try FileEventStore.verify(directory: folder.path)
        let end = Int(readBack.recordBytes) + SegmentHeader.size
        for index in (end - 10)..<end { bytes[index] = 0 }
        try write(bytes, to: segment)
        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(reopened.openReport.tornTail?.discardedRecords == 3)
        #expect(try reopened.version(of: "a-1") == 1)
        #expect(try reopened.version(of: "b-1") == 0)
        #expect(try reopened.readAll().count == 1)
        try await reopened.close()
    }

    @Test func streamHeadsBeyondTheCacheComeFromTheIndexes() async throws {
        var options = testOptions(segmentSizeBytes: 64 * 1024)
        options.streamCacheCapacity = 2
        try await withStore(options) { store, _ in
            for round in 1...3 {
                for stream in 0..<20 {
                    try await store.append(
                        [event("E", stream, bytes: 500)], to: StreamName("h-\(stream)"),
                        expectedVersion: .exact(StreamVersion(UInt64(round - 1))))
                }
            }
            await #expect(throws: EventStoreError.wrongExpectedVersion(stream: "h-7", expected: .exact(2), actual: 3)) {
                try await store.append([event()], to: "h-7", expectedVersion: .exact(2))
            }
        }
    }
}

@Suite struct StatsTests {
    @Test func statsAddUpEventsStreamsCategoriesAndTheLargestStreams() async throws {
        try await withStore(testOptions(segmentSizeBytes: 64 * 1024)) { store, _ in
            for n in 0..<300 {
                let stream: StreamName = n % 3 == 0 ? "order-1" : StreamName(unchecked: "cart-\(n % 7)")
                try await store.append([event("E", n, bytes: 300)], to: stream)
            }
            let stats = try store.stats(largestStreams: 2)
            #expect(stats.events == 300)
            #expect(stats.streams == 1 + 7)
            #expect(stats.segments == (try segmentFiles(store.directory).count))
            #expect(stats.indexBytes > 0 && stats.segmentBytes > 0)
            #expect(stats.categories == [.init(category: "cart", events: 200), .init(category: "order", events: 100)])
            #expect(stats.largestStreams.first == .init(stream: "order-1", events: 100))
            #expect(stats.largestStreams.count == 2)
        }
    }
}

@Suite struct InspectTests {
    @Test func inspectNamesTheFileOffsetSizeAndChecksumOfARecord() async throws {
        try await withStore(testOptions(segmentSizeBytes: 64 * 1024)) { store, folder in
            for n in 0..<200 { try await store.append([event("E", n, bytes: 500)], to: "i-1") }
            let first = try #require(try store.inspect(position: 1))
            #expect(first.file == (try segmentFiles(folder.path))[0] && first.offset == 64)
            #expect(first.isSealedSegment && first.isLastOfAppendCall)
            #expect(first.lengthBytes == RecordLayout.recordSize(of: event("E", 0, bytes: 500), in: "i-1"))
            let bytes = try bytes(of: first.file)
            #expect(bytes.withUnsafeBytes { $0.loadLE(UInt32.self, at: 68) } == first.checksum)
            let last = try #require(try store.inspect(position: 200))
            #expect(!last.isSealedSegment && last.event.position == 200)
            #expect(try store.inspect(position: 201) == nil)
        }
    }
}

@Suite struct EventViewTests {
    @Test func viewsSeeWhatReadsSeeWithoutCopying() async throws {
        try await withStore(testOptions(segmentSizeBytes: 64 * 1024)) { store, _ in
            for n in 0..<300 {
                try await store.append([event(n % 2 == 0 ? "Even" : "Odd", n, bytes: 200)], to: StreamName(unchecked: "v-\(n % 3)"))
            }
            try await store.truncateStream("v-1", before: 50)
            let events = try store.readAll()
            var viewed: [RecordedEvent] = []
            var dataBytes = 0
            try store.forEachEventView { view in
                viewed.append(view.event())
                view.withData { dataBytes += $0.count }
                #expect(view.isInStream(view.stream) && view.hasType(view.type) && !view.hasType("Nope"))
                return true
            }
            #expect(viewed == events)
            #expect(dataBytes == events.count * 200)
            var odd = 0
            try store.forEachEventView(from: 10, filter: EventFilter(eventTypes: ["Odd"])) { view in
                odd += 1
                return odd < 5
            }
            #expect(odd == 5)
            // A negative count is a mistake worth naming, as for the other reads.
            #expect(throws: EventStoreError.self) { try store.forEachEventView(maxCount: -1) { _ in true } }
            #expect(throws: EventStoreError.self) { try store.stats(largestStreams: -1) }
        }
    }
}
