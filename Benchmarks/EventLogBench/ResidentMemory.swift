// The process's resident memory, because an embedded store's memory is its host's:
// Linux reports it in /proc/self/status, and lets a process reset its own peak.
import Foundation
import Glibc

enum ResidentMemory {
    /// The most an embedding application should have to give the store and the
    /// benchmark together, in any row.
    static let targetBytes = 256 * 1_048_576

    /// Resident memory now (VmRSS), in bytes; nil where /proc does not say.
    static func currentBytes() -> Int? { statusField("VmRSS:") }

    /// The peak resident memory since the last ``resetPeak()`` (VmHWM), in bytes.
    static func peakBytes() -> Int? { statusField("VmHWM:") }

    /// Hands freed heap back to the system (so one row's leftovers do not count in
    /// the next row's memory), then starts a new peak: writing 5 to
    /// /proc/self/clear_refs resets VmHWM to the current VmRSS (Linux 4.0 on).
    /// Returns whether the reset worked; if not, peaks span the whole run.
    @discardableResult
    static func resetPeak() -> Bool {
        trimHeap()
        let fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }

    /// Runs `body` (one row's measurement) from a fresh peak, and stores the peak
    /// it reached in the row's `residentMemoryBytes`. The peak includes whatever
    /// earlier rows left resident (heap the allocator keeps, idle threads' stacks),
    /// so the progress line gives the starting point too.
    static func measuring(_ body: () async throws -> RowResult) async rethrows -> RowResult {
        resetPeak()
        let startBytes = currentBytes()
        var row = try await body()
        row.residentMemoryBytes = peakBytes()
        if let startBytes, let peak = row.residentMemoryBytes {
            Progress.log("  \(row.name): resident memory \(mebibytes(startBytes)) at the start, peak \(mebibytes(peak))")
        }
        return row
    }

    /// glibc's `malloc_trim(0)`, looked up at run time because Swift's Glibc module
    /// leaves out malloc.h; nothing happens with another C library.
    private static func trimHeap() {
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
    }

    /// `bytes` in mebibytes, for the table and notes.
    static func mebibytes(_ bytes: Int) -> String {
        NumberFormatting.decimal(Double(bytes) / 1_048_576, decimals: 1) + " MiB"
    }

    /// A `Name:   1234 kB` line of /proc/self/status, in bytes.
    private static func statusField(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let fields = line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let value = fields.first.flatMap({ Int($0) }), fields.count == 2, fields[1] == "kB" else { return nil }
            return value * 1024
        }
        return nil
    }
}
