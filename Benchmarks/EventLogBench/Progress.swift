// Progress goes to stderr, so stdout carries only the machine line and the table
// (and can be piped or diffed between runs). Both are written unbuffered, so the
// two streams interleave in order when they share a terminal or a file.
import Foundation

enum Progress {
    /// Writes one line to stderr.
    static func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

enum Report {
    /// Writes `text` and a newline to stdout.
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
