// Standard input as lines of bytes. Bytes rather than String: JSON parsing wants
// bytes, and a String would silently repair invalid UTF-8 that the parser should
// reject.
import EventSourcing
import Foundation

/// Reads lines from a file handle, in bounded chunks, with a bound on line length.
struct LineReader {
    /// The longest line accepted. An append call carries at most
    /// `Limits.appendMaxBytes`; JSON escaping and whitespace can make its line
    /// longer, but not without bound.
    static let maximumLineBytes = 4 * Limits.appendMaxBytes
    static let chunkBytes = 1024 * 1024

    private let handle: FileHandle
    private var buffer: [UInt8] = []
    /// Where each read lands, reused.
    private var chunk = [UInt8](repeating: 0, count: chunkBytes)
    /// Where the unread part of `buffer` starts.
    private var start = 0
    /// How far past `start` the buffer is known to hold no newline.
    private var scanned = 0
    private var reachedEnd = false
    /// The 1-based number of the line last returned.
    private(set) var lineNumber = 0

    init(_ handle: FileHandle) { self.handle = handle }

    /// The next line without its line ending (`\n` or `\r\n`), or nil at the end of input.
    mutating func nextLine() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[(start + scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
                return takeLine(upTo: newline, consuming: 1)
            }
            scanned = buffer.count - start
            if reachedEnd {
                return start < buffer.count ? takeLine(upTo: buffer.count, consuming: 0) : nil
            }
            guard scanned <= Self.maximumLineBytes else {
                throw CommandFailure.invalidInput(
                    "line \(lineNumber + 1) is longer than \(Self.maximumLineBytes) bytes; "
                        + "an append call holds at most \(Limits.appendMaxBytes) bytes, so split the events over several lines")
            }
            try readChunk()
        }
    }

    private mutating func takeLine(upTo end: Int, consuming terminatorBytes: Int) -> ArraySlice<UInt8> {
        var lineEnd = end
        if lineEnd > start, buffer[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
        let line = buffer[start..<lineEnd]
        start = end + terminatorBytes
        scanned = 0
        lineNumber += 1
        return line
    }

    private mutating func readChunk() throws {
        // Drop the consumed prefix once it outweighs the rest, so the buffer stays
        // about one line long however much input passes through.
        if start > 0, start >= buffer.count - start {
            buffer.removeSubrange(..<start)
            start = 0
        }
        let count = try readOnce()
        if count == 0 {
            reachedEnd = true
        } else {
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    /// One read(2), which returns what the input holds so far. A producer may wait
    /// for a line's acknowledgement before it sends the next one, and
    /// `FileHandle.read(upToCount:)` waits on Linux for the whole count (or the end
    /// of the input) first, so it would acknowledge nothing until then.
    private mutating func readOnce() throws -> Int {
        let descriptor = handle.fileDescriptor
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count >= 0 { return count }
            guard errno == EINTR else {
                let code = errno
                throw CommandFailure(
                    exitCode: .failure,
                    message: "reading standard input failed: \(String(cString: strerror(code))) (errno \(code))")
            }
        }
    }
}
