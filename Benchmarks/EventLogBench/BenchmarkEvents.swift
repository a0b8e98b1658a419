// The events every row appends, and their size on disk, in one place so that the
// store rows and the raw baselines write the same number of bytes per event.
import EventSourcing
import Foundation

/// Makes the benchmark's events: one payload (100 bytes unless a row asks for
/// more) shared by all of them (Data is copy-on-write, so no per-event copy),
/// and ids from a counter under a random
/// prefix, so that making one costs no system call (`UUID()` reads the system
/// random source each time: about 3 µs on the test VM) and ids never repeat (a
/// repeated id is an idempotent retry to the store, which writes nothing).
struct BenchmarkEventFactory {
    static let dataSizeBytes = 100
    static let eventType = "BenchEvent"

    private let payload: Data
    private let idPrefix: UInt64
    private var counter: UInt64 = 0

    init(dataSizeBytes: Int = BenchmarkEventFactory.dataSizeBytes) {
        payload = Data((0..<dataSizeBytes).map { UInt8(truncatingIfNeeded: $0) })
        var random = SystemRandomNumberGenerator()
        // Version 4 in byte 6, as for a random UUID.
        idPrefix = (random.next() & ~0xF000) | 0x4000
    }

    /// A new event with a fresh id.
    mutating func next() -> EventData {
        counter += 1
        // Variant bits 10 at the top of byte 8, as RFC 9562 requires.
        let low = (counter & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let id = UUID(uuid: unsafeBitCast((idPrefix.bigEndian, low.bigEndian), to: uuid_t.self))
        return EventData(id: id, type: Self.eventType, data: payload, isJSON: false)
    }

    /// `count` new events, for one append call.
    mutating func next(_ count: Int) -> [EventData] {
        var events: [EventData] = []
        events.reserveCapacity(count)
        for _ in 0..<count { events.append(next()) }
        return events
    }
}

/// The streams appenders write to: one per appender, all names the same length,
/// so every record of a row has the same size.
enum BenchmarkStreams {
    /// The most appenders a row has (the 256-appender point of the `--svg` sweep).
    static let maxCount = 256

    /// `bench-00` ... `bench-ff`: two hex digits, so 256 names fit in one length.
    static func name(_ index: Int) -> StreamName {
        precondition((0..<maxCount).contains(index), "stream index \(index) is outside 0..<\(maxCount)")
        let digits = String(index, radix: 16)
        return fixedName("bench-" + (digits.count < 2 ? "0" + digits : digits))
    }

    /// A name the benchmark made up and knows to be valid.
    static func fixedName(_ text: String) -> StreamName {
        do { return try StreamName(text) } catch { preconditionFailure("benchmark stream name '\(text)': \(error)") }
    }

    /// Bytes of one benchmark event's record: the 64-byte header, then stream
    /// name, event type, metadata (none) and data (`RecordLayout` in the engine).
    static func recordSizeBytes(streamNameBytes: Int = "bench-00".utf8.count, dataSizeBytes: Int) -> Int {
        64 + streamNameBytes + BenchmarkEventFactory.eventType.utf8.count + dataSizeBytes
    }

    /// The record size of the append rows' default 100-byte events.
    static let recordSizeBytes = recordSizeBytes(dataSizeBytes: BenchmarkEventFactory.dataSizeBytes)

    /// Bytes of a segment file's header, before its first record.
    static let segmentHeaderSizeBytes = 64
}
