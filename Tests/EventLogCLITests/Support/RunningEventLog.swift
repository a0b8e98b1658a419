// Runs an `eventlog` command that keeps running (`tail`) as a child process,
// hands its output to the test line by line as it arrives, and stops it with a
// signal the way a user's Ctrl-C would.
import Foundation
import Glibc
import Testing

/// A running `eventlog` child with standard output and error on pipes.
final class RunningEventLog: @unchecked Sendable {
    // @unchecked: one test task uses it; the reader threads only feed the streams.
    private let process: Process
    private var outputLines: AsyncStream<String>.Iterator
    private var errorLines: AsyncStream<String>.Iterator
    private let exitStatus: AsyncStream<Int32>

    /// Starts `eventlog arguments...` with nothing on standard input.
    init(_ arguments: [String]) throws {
        let executable = try #require(EventLogProcess.executable, "the eventlog binary was not found beside the test bundle")
        let output = try Self.pipe()
        let error = try Self.pipe()
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let writeEnds = [output.write, error.write].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
        process.standardOutput = writeEnds[0]
        process.standardError = writeEnds[1]
        let (status, statusSink) = AsyncStream<Int32>.makeStream()
        exitStatus = status
        process.terminationHandler = { finished in
            let signalled = finished.terminationReason == .uncaughtSignal
            statusSink.yield(signalled ? 128 + finished.terminationStatus : finished.terminationStatus)
            statusSink.finish()
        }
        outputLines = Self.lines(readingFrom: output.read).makeAsyncIterator()
        errorLines = Self.lines(readingFrom: error.read).makeAsyncIterator()
        // The child holds its own copies once it runs; the readers see the end once it exits.
        defer { for end in writeEnds { try? end.close() } }
        try process.run()
    }

    /// The next line of standard output, waiting for it; nil once the child closed it.
    func nextOutputLine() async -> String? { await outputLines.next() }

    /// The next `count` lines of standard output, waiting for each (fewer if the child ends first).
    func outputLines(_ count: Int) async -> [String] {
        var lines: [String] = []
        while lines.count < count, let line = await outputLines.next() { lines.append(line) }
        return lines
    }

    /// The next line of standard error, waiting for it; nil once the child closed it.
    func nextErrorLine() async -> String? { await errorLines.next() }

    /// Sends `signal` and waits for the child to end.
    /// - Returns: its exit status (128 + the signal number if a signal ended it) and
    ///   every standard output line it printed after those already taken.
    func stop(with signal: Int32 = SIGINT) async -> (status: Int32, remainingOutput: [String]) {
        _ = Glibc.kill(process.processIdentifier, signal)
        var status: Int32 = -1
        for await value in exitStatus { status = value }
        var remaining: [String] = []
        while let line = await outputLines.next() { remaining.append(line) }
        return (status, remaining)
    }

    /// Kills the child if it still runs (for a test that fails before it stops it).
    func kill() {
        if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    /// A pipe whose ends close on exec, so that a child another test spawns
    /// meanwhile cannot hold the write end open (the reader would wait for it too).
    private static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard Glibc.pipe(&ends) == 0 else { throw PipeError(errno: errno) }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return (ends[0], ends[1])
    }

    /// The lines read from `descriptor` on a thread of its own (reads block), until its end.
    private static func lines(readingFrom descriptor: Int32) -> AsyncStream<String> {
        let (lines, sink) = AsyncStream<String>.makeStream()
        Thread {
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = read(descriptor, &chunk, chunk.count)
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                pending.append(contentsOf: chunk[..<count])
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    sink.yield(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
            }
            close(descriptor)
            sink.finish()
        }.start()
        return lines
    }
}

struct PipeError: Error, CustomStringConvertible {
    let errno: Int32
    var description: String { "pipe failed: errno \(errno)" }
}
