// The read-stream rows' ceiling: fetching the same records with no index lookup,
// decoding or checksum, one pread each at the offset the store reports.

/// One pread per record, in the order given.
enum StreamReadBaseline {
    /// Where a record lies (from ``FileEventStore/inspect(position:)``).
    struct Record: Sendable {
        let path: String
        let offset: Int
        let lengthBytes: Int
    }

    /// Reads each record whole into one reused buffer. A file is opened when the
    /// records move into it (a few opens per run, next to thousands of preads).
    static func run(_ records: [Record]) throws -> BaselineMeasurement {
        precondition(!records.isEmpty, "a stream read baseline needs records")
        let largestBytes = records.map(\.lengthBytes).max()!
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: largestBytes, alignment: 64)
        defer { buffer.deallocate() }
        let started = MonotonicClock.nanoseconds()
        var next = 0
        while next < records.count {
            let path = records[next].path
            let file = try RawFile.openForReading(path)
            while next < records.count, records[next].path == path {
                let record = records[next]
                let count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<record.lengthBytes]), at: record.offset)
                guard count == record.lengthBytes else {
                    throw BenchmarkError("stream read baseline: read \(count) of \(record.lengthBytes) bytes at \(record.offset) in \(path)")
                }
                next += 1
            }
            try file.close()
        }
        let finished = MonotonicClock.nanoseconds()
        return BaselineMeasurement(events: records.count, seconds: MonotonicClock.seconds(from: started, to: finished))
    }
}
