// Runs `eventlog` with standard error on a pseudo-terminal or a pipe, to see
// what a person at a terminal sees (the progress line) and what a script sees.
// Standard output goes to a file either way, as when a user redirects it.
import Foundation
import Glibc
import Testing

enum StandardErrorCapture {
    enum Target {
        /// A pseudo-terminal: `isatty(2)` is true in the child.
        case terminal
        case pipe
    }

    /// Runs `eventlog arguments...` with the file at `inputPath` (or nothing) as
    /// standard input and returns its exit status and every byte it wrote to
    /// standard error, read while it runs so that it can never block on a full
    /// terminal or pipe buffer.
    static func run(
        _ arguments: [String], inputPath: String? = nil, standardErrorOn target: Target, in folder: TemporaryDirectory
    ) async throws -> (status: Int32, standardError: [UInt8]) {
        let executable = try #require(EventLogProcess.executable, "the eventlog binary was not found beside the test bundle")
        let (readEnd, writeEnd) = try openChannel(target)
        let outputPath = folder.file("\(UUID().uuidString).stdout")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let outputHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        defer { try? outputHandle.close() }
        let errorHandle = FileHandle(fileDescriptor: writeEnd, closeOnDealloc: true)

        // Read on a thread of its own: a blocking read must not hold a task's thread.
        async let captured: [UInt8] = withCheckedContinuation { continuation in
            Thread {
                var all: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 4_096)
                while true {
                    let count = read(readEnd, &chunk, chunk.count)
                    if count > 0 {
                        all.append(contentsOf: chunk[..<count])
                    } else if count < 0, errno == EINTR {
                        continue
                    } else {
                        // 0 at the end of a pipe; EIO on a terminal once every writer closed it.
                        break
                    }
                }
                close(readEnd)
                continuation.resume(returning: all)
            }.start()
        }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let inputHandle = try inputPath.map { try FileHandle(forReadingFrom: URL(fileURLWithPath: $0)) }
        defer { try? inputHandle?.close() }
        process.standardInput = inputHandle ?? FileHandle.nullDevice
        process.standardOutput = outputHandle
        process.standardError = errorHandle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in
                let signalled = finished.terminationReason == .uncaughtSignal
                continuation.resume(returning: signalled ? 128 + finished.terminationStatus : finished.terminationStatus)
            }
            do {
                try process.run()
                // The child holds its own copy now; the reader sees the end once the child exits.
                try? errorHandle.close()
            } catch {
                process.terminationHandler = nil
                try? errorHandle.close()
                continuation.resume(throwing: error)
            }
        }
        return (status, await captured)
    }

    /// The read and write ends: a pseudo-terminal's master and slave, or a pipe's.
    /// All close on exec, so that a child another test spawns meanwhile cannot hold
    /// the write end open (the reader would wait for that child too).
    private static func openChannel(_ target: Target) throws -> (read: Int32, write: Int32) {
        switch target {
        case .pipe:
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw PseudoTerminalError(step: "pipe", errno: errno) }
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            return (ends[0], ends[1])
        case .terminal:
            let calls = try PseudoTerminalCalls()
            let master = calls.openMaster(O_RDWR | O_NOCTTY)
            guard master >= 0 else { throw PseudoTerminalError(step: "posix_openpt", errno: errno) }
            _ = fcntl(master, F_SETFD, FD_CLOEXEC)
            var name = [CChar](repeating: 0, count: 256)
            guard calls.grant(master) == 0, calls.unlock(master) == 0, calls.slaveName(master, &name, name.count) == 0 else {
                let failure = PseudoTerminalError(step: "grantpt/unlockpt/ptsname_r", errno: errno)
                close(master)
                throw failure
            }
            let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
            guard slave >= 0 else {
                let failure = PseudoTerminalError(step: "open \(path)", errno: errno)
                close(master)
                throw failure
            }
            return (master, slave)
        }
    }
}

/// The C library's pseudo-terminal calls. Glibc's Swift module leaves them out
/// (they sit behind feature macros in <stdlib.h>), so they are looked up by name
/// and called with the C calling convention.
private struct PseudoTerminalCalls {
    let openMaster: @convention(c) (Int32) -> Int32
    let grant: @convention(c) (Int32) -> Int32
    let unlock: @convention(c) (Int32) -> Int32
    let slaveName: @convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32

    init() throws {
        openMaster = try Self.symbol("posix_openpt")
        grant = try Self.symbol("grantpt")
        unlock = try Self.symbol("unlockpt")
        slaveName = try Self.symbol("ptsname_r")
    }

    private static func symbol<Function>(_ name: String) throws -> Function {
        guard let library = dlopen(nil, RTLD_NOW), let address = dlsym(library, name) else {
            throw PseudoTerminalError(step: "dlsym(\(name))", errno: 0)
        }
        return unsafeBitCast(address, to: Function.self)
    }
}

struct PseudoTerminalError: Error, CustomStringConvertible {
    let step: String
    let errno: Int32
    var description: String { "\(step) failed: errno \(errno)" }
}
