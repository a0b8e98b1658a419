// Runs the built `eventlog` binary as a child process, the way a user or a
// script would, and collects what it printed and how it exited.
import Foundation
import Testing

/// What one run of `eventlog` printed, and its exit status.
struct CommandResult: CustomStringConvertible {
    /// The exit status (128 + signal number if a signal ended the process).
    let status: Int32
    let standardOutput: String
    let standardError: String

    /// The non-empty lines of standard output.
    var outputLines: [String] { standardOutput.split(separator: "\n").map(String.init) }

    /// Whether standard error shows a crash rather than a message for the user.
    var showsCrash: Bool {
        standardError.contains("Fatal error") || standardError.contains("Stack dump") || standardError.contains("Backtrace")
    }

    var description: String { "exit \(status)\n--- stdout\n\(standardOutput)--- stderr\n\(standardError)" }
}

enum EventLogProcess {
    /// The `eventlog` executable, built beside the test bundle (the test target
    /// depends on EventLogCLI so that it is built first).
    static let executable: URL? = {
        // On Linux the test bundle is itself an executable in the build folder;
        // /proc/self/exe names it even when the runner was started through a symlink.
        var folders: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            folders.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        folders.append(Bundle.main.bundleURL)
        folders.append(Bundle.main.bundleURL.deletingLastPathComponent())
        return folders.map { $0.appendingPathComponent("eventlog") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Runs `eventlog arguments...` with `input` as standard input.
    ///
    /// Standard input, output and error are files in `folder` rather than pipes:
    /// nothing can fill up and block, and a child that exits without reading its
    /// input cannot raise SIGPIPE in the test process.
    ///
    /// `openFileLimit`: arguments for the shell's `ulimit` (e.g. `-S -n 128`), set
    /// for the child only, through `/bin/sh`.
    static func run(
        _ arguments: [String], input: Data = Data(), openFileLimit: String? = nil, in folder: TemporaryDirectory
    ) async throws -> CommandResult {
        let executable = try #require(EventLogProcess.executable, "the eventlog binary was not found beside the test bundle")
        let name = UUID().uuidString
        let inputPath = folder.file("\(name).stdin")
        let outputPath = folder.file("\(name).stdout")
        let errorPath = folder.file("\(name).stderr")
        try input.write(to: URL(fileURLWithPath: inputPath))
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer {
            for path in [inputPath, outputPath, errorPath] { try? FileManager.default.removeItem(atPath: path) }
        }
        let inputHandle = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputPath))
        let outputHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let errorHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        defer {
            try? inputHandle.close()
            try? outputHandle.close()
            try? errorHandle.close()
        }

        let process = Process()
        if let openFileLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit \(openFileLimit) && exec \"$0\" \"$@\"", executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        process.standardInput = inputHandle
        process.standardOutput = outputHandle
        process.standardError = errorHandle
        // Wait on the termination handler rather than blocking a test thread in waitUntilExit().
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in
                let signalled = finished.terminationReason == .uncaughtSignal
                continuation.resume(returning: signalled ? 128 + finished.terminationStatus : finished.terminationStatus)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return CommandResult(
            status: status,
            standardOutput: try String(contentsOfFile: outputPath, encoding: .utf8),
            standardError: try String(contentsOfFile: errorPath, encoding: .utf8))
    }

    /// Runs `eventlog` with `lines` joined by newlines as standard input.
    static func run(_ arguments: [String], lines: [String], in folder: TemporaryDirectory) async throws -> CommandResult {
        try await run(arguments, input: Data(lines.map { $0 + "\n" }.joined().utf8), in: folder)
    }
}
