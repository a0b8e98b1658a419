// Where the tool's words go. Results go to standard output through one buffer
// (a line per write would cost a system call per event on large reads); errors
// and notes go to standard error, unbuffered, so they interleave correctly.
import Foundation

/// A buffered writer to standard output.
struct OutputBuffer {
    /// Flush once this many bytes are pending: large enough to amortise the
    /// write, small enough to keep memory constant on a read of any size.
    static let flushThresholdBytes = 64 * 1024

    /// The pending bytes; encoders append to them directly.
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(Self.flushThresholdBytes * 2) }

    /// Appends text and a newline.
    mutating func writeLine(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        bytes.append(UInt8(ascii: "\n"))
    }

    /// Writes the pending bytes if there are enough of them to be worth a write.
    mutating func flushIfFull() throws {
        if bytes.count >= Self.flushThresholdBytes { try flush() }
    }

    /// Writes every pending byte to standard output.
    mutating func flush() throws {
        guard !bytes.isEmpty else { return }
        try FileHandle.standardOutput.write(contentsOf: bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}

/// Writes `text` and a newline to standard output at once (for short outputs).
/// Standard output is written only through FileHandle, never `print`, so that
/// no second buffer can reorder it.
func printOutput(_ text: String, terminator: String = "\n") {
    try? FileHandle.standardOutput.write(contentsOf: Data((text + terminator).utf8))
}

/// Writes `text` and a newline to standard error.
func printError(_ text: String) {
    try? FileHandle.standardError.write(contentsOf: Data((text + "\n").utf8))
}
