import CCRC32C
import Testing

@testable import EventLog

@Suite struct CRC32CTests {
    /// RFC 3720, appendix B.4, plus the common "123456789" check value.
    static let vectors: [([UInt8], UInt32)] = [
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ((0..<32).map { UInt8($0) }, 0x46DD_794E),
        ((0..<32).reversed().map { UInt8($0) }, 0x113F_DB5C),
        (Array("123456789".utf8), 0xE306_9283),
        ([], 0),
    ]

    @Test(arguments: 0..<vectors.count)
    func bothImplementationsMatchTheRFC3720Vectors(index: Int) {
        let (input, expected) = Self.vectors[index]
        input.withUnsafeBytes { raw in
            #expect(crc32c_extend_portable(0, raw.baseAddress, raw.count) == expected)
            if crc32c_hardware_available() != 0 {
                #expect(crc32c_extend_hardware(0, raw.baseAddress, raw.count) == expected)
            }
            #expect(CRC32C.checksum(raw) == expected)
        }
    }

    @Test func hardwareAndPortableAgreeOnRandomBuffersAtEveryAlignment() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let count = Int.random(in: 0..<2_000, using: &generator)
            let buffer = (0..<count + 8).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let start = Int.random(in: 0..<8, using: &generator)
            buffer.withUnsafeBytes { raw in
                let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + count)])
                let portable = crc32c_extend_portable(0, slice.baseAddress, slice.count)
                #expect(crc32c_extend(0, slice.baseAddress, slice.count) == portable)
                if crc32c_hardware_available() != 0 {
                    #expect(crc32c_extend_hardware(0, slice.baseAddress, slice.count) == portable)
                }
            }
        }
    }

    @Test func extendingInPiecesEqualsOneChecksum() {
        let bytes = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        bytes.withUnsafeBytes { raw in
            let whole = CRC32C.checksum(raw)
            for split in [0, 1, 7, 8, 9, 500, 999, 1_000] {
                let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<split]))
                #expect(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[split...]), seed: first) == whole)
            }
        }
    }
}
