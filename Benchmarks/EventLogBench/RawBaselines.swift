// What the disk can do with no store in the way, measured in the same run and the
// same folder as each row: the ceiling a row's ratio is taken against.
import Foundation

/// One baseline run: how many events' bytes it moved, and how long that took.
struct BaselineMeasurement: Sendable {
    let events: Int
    let seconds: Double
    var eventsPerSecond: Double { Double(events) / seconds }
}

/// A pwrite + fdatasync loop writing records' worth of bytes.
enum WriteBaseline {
    /// Writes `events` records of `recordSizeBytes` in `syncs` pwrite + fdatasync
    /// pairs of (as nearly as integers allow) equal size, so the events per sync
    /// equal the store's in the row it is compared with. With `syncs == 0`, one
    /// pwrite per event and no sync (the `.none` durability rows).
    ///
    /// Like the store's segments, the file is preallocated and has a 64-byte header
    /// synced before the clock starts.
    static func run(path: String, events: Int, syncs: Int, recordSizeBytes: Int) throws -> BaselineMeasurement {
        precondition(events > 0 && syncs >= 0, "a write baseline needs events")
        let syncCount = min(syncs, events)
        let headerBytes = BenchmarkStreams.segmentHeaderSizeBytes
        let file = try RawFile.create(path)
        try file.preallocate(sizeBytes: headerBytes + events * recordSizeBytes)

        // The largest write: one record without syncs, else the largest group.
        let largestGroupEvents = syncCount == 0 ? 1 : (events + syncCount - 1) / syncCount
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: largestGroupEvents * recordSizeBytes, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xA5)
        try file.write(UnsafeRawBufferPointer(rebasing: buffer[0..<headerBytes]), at: 0)
        try file.sync()

        var offset = headerBytes
        let started = MonotonicClock.nanoseconds()
        if syncCount == 0 {
            let record = UnsafeRawBufferPointer(rebasing: buffer[0..<recordSizeBytes])
            for _ in 0..<events {
                try file.write(record, at: offset)
                offset += recordSizeBytes
            }
        } else {
            for group in 0..<syncCount {
                // Group k holds events [k*E/S, (k+1)*E/S): the remainders spread evenly.
                let groupEvents = (group + 1) * events / syncCount - group * events / syncCount
                let bytes = groupEvents * recordSizeBytes
                try file.write(UnsafeRawBufferPointer(rebasing: buffer[0..<bytes]), at: offset)
                try file.syncData()
                offset += bytes
            }
        }
        let finished = MonotonicClock.nanoseconds()
        try file.close()
        assert(offset == headerBytes + events * recordSizeBytes, "the baseline wrote every event")
        return BaselineMeasurement(events: events, seconds: MonotonicClock.seconds(from: started, to: finished))
    }
}

/// A sequential pread loop over a store's segment files.
enum ReadBaseline {
    static let chunkSizeBytes = 1 << 20

    /// One file's part of the read: its first `lengthBytes` bytes.
    struct FileExtent: Sendable {
        let path: String
        let lengthBytes: Int
    }

    /// Reads the extents in order in 1 MiB preads into one reused buffer, and
    /// reports the time against `events` (the events those bytes hold).
    static func run(_ extents: [FileExtent], events: Int) throws -> BaselineMeasurement {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSizeBytes, alignment: 4096)
        defer { buffer.deallocate() }
        var totalBytes = 0
        let started = MonotonicClock.nanoseconds()
        for extent in extents {
            let file = try RawFile.openForReading(extent.path)
            var offset = 0
            while offset < extent.lengthBytes {
                let wanted = min(chunkSizeBytes, extent.lengthBytes - offset)
                let count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), at: offset)
                if count == 0 { break }
                offset += count
            }
            totalBytes += offset
            try file.close()
        }
        let finished = MonotonicClock.nanoseconds()
        let expectedBytes = extents.reduce(0) { $0 + $1.lengthBytes }
        guard totalBytes == expectedBytes else {
            throw BenchmarkError("read baseline read \(totalBytes) bytes of the \(expectedBytes) the segment files should hold")
        }
        return BaselineMeasurement(events: events, seconds: MonotonicClock.seconds(from: started, to: finished))
    }
}
