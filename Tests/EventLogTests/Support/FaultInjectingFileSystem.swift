// Wraps the real file system and fails chosen calls, to prove the store's
// reaction to I/O errors: no false acknowledgement, a poisoned writer, and
// recovery on reopen.
import Foundation
import Synchronization

@testable import EventLog

/// The real file system with injectable failures.
final class FaultInjectingFileSystem: FileSystem {
    enum Operation: String, Sendable, CaseIterable {
        case open, close, read, write, syncData, sync, syncDirectory, truncate, allocate, rename, remove
    }

    struct Fault: Sendable {
        var operation: Operation
        /// Fail the call with this 1-based index among calls of `operation` counted from arming.
        var afterCalls: Int
        var errno: Int32
        /// Keep failing every later call too.
        var persistent: Bool
    }

    private let real = PosixFileSystem()
    private let state = Mutex<(fault: Fault?, counts: [Operation: Int], failures: Int)>((nil, [:], 0))
    private let opened = Mutex<[String]>([])

    init() {}

    /// Arms a fault; counting starts now.
    func arm(_ fault: Fault) {
        state.withLock { $0 = (fault, [:], 0) }
    }

    func disarm() { state.withLock { $0.fault = nil } }

    /// Every path opened so far, in order.
    var openedPaths: [String] { opened.withLock { $0 } }

    /// How many calls failed so far.
    var failuresInjected: Int { state.withLock { $0.failures } }

    private func check(_ operation: Operation, _ path: String) throws {
        let failing: Int32? = state.withLock { state in
            guard let fault = state.fault, fault.operation == operation else { return nil }
            state.counts[operation, default: 0] += 1
            let count = state.counts[operation]!
            if count == fault.afterCalls || (fault.persistent && count > fault.afterCalls) {
                state.failures += 1
                return fault.errno
            }
            return nil
        }
        if let errno = failing {
            throw SystemError(operation: operation.rawValue, path: path, errno: errno, message: "injected fault")
        }
    }

    func open(_ path: String, mode: OpenMode) throws -> OpenFile {
        try check(.open, path)
        opened.withLock { $0.append(path) }
        return try real.open(path, mode: mode)
    }
    func close(_ file: OpenFile) throws {
        try check(.close, file.path)
        try real.close(file)
    }
    func read(_ file: OpenFile, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        try check(.read, file.path)
        return try real.read(file, into: buffer, at: offset)
    }
    func write(_ file: OpenFile, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        try check(.write, file.path)
        try real.write(file, bytes, at: offset)
    }
    func syncData(_ file: OpenFile) throws {
        try check(.syncData, file.path)
        try real.syncData(file)
    }
    func sync(_ file: OpenFile) throws {
        try check(.sync, file.path)
        try real.sync(file)
    }
    func syncDirectory(_ path: String) throws {
        try check(.syncDirectory, path)
        try real.syncDirectory(path)
    }
    func truncate(_ file: OpenFile, toSizeBytes size: UInt64) throws {
        try check(.truncate, file.path)
        try real.truncate(file, toSizeBytes: size)
    }
    func allocate(_ file: OpenFile, sizeBytes size: UInt64) throws {
        try check(.allocate, file.path)
        try real.allocate(file, sizeBytes: size)
    }
    func size(_ file: OpenFile) throws -> UInt64 { try real.size(file) }
    func rename(_ from: String, to: String) throws {
        try check(.rename, from)
        try real.rename(from, to: to)
    }
    func remove(_ path: String) throws {
        try check(.remove, path)
        try real.remove(path)
    }
    func makeDirectory(_ path: String) throws { try real.makeDirectory(path) }
    func listDirectory(_ path: String) throws -> [String] { try real.listDirectory(path) }
    func exists(_ path: String) -> Bool { real.exists(path) }
    func tryLockExclusive(_ file: OpenFile) throws -> Bool { try real.tryLockExclusive(file) }
}
