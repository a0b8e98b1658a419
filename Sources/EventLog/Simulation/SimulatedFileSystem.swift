// A simulated disk behind the `FileSystem` seam, deterministic from a seed: it
// keeps what is durable apart from what is only written, so a test can pull the
// plug at any I/O call and open the store on what a real disk could hold after it.
// See DESIGN.md, "Fault model". Nothing else in the engine depends on this file.
import Synchronization

/// An in-memory file system that models durability, power loss, process crashes
/// and I/O errors.
///
/// Per file it keeps the durable bytes and the unsynced changes (writes with their
/// offset and bytes, truncations, allocations); per directory the durable entries
/// and the unsynced creations, renames and removals. ``crash()`` (power loss)
/// decides each unsynced change from the seed: a write is kept, dropped, or torn at
/// a 512-byte sector boundary with random bytes after the tear; a size change is
/// kept or lost; a directory keeps some prefix of its unsynced entry changes.
/// ``crashProcess()`` (kill -9) keeps everything written. Either way every open
/// descriptor and lock of the dead process is gone, and the store it ran is inert:
/// its later calls fail. Open a new store on the same file system to recover.
///
/// Thread-safe: one mutex serialises every call, so the writer thread and readers
/// may call it concurrently.
@_spi(Testing) public final class SimulatedFileSystem: Sendable {
    /// The granularity of torn writes.
    public static let sectorSizeBytes = 512
    /// `EIO`.
    public static let ioError: Int32 = Errno.io
    /// `ENOSPC`.
    public static let noSpace: Int32 = Errno.noSpace

    /// How the machine dies.
    public enum CrashKind: String, Sendable, CaseIterable, CustomStringConvertible {
        /// Power loss: unsynced writes may be lost or torn, unsynced directory entries may vanish.
        case powerLoss = "power loss"
        /// The process is killed: everything it wrote stays in the page cache.
        case processCrash = "process crash"

        /// The kind in words: `power loss` or `process crash`.
        public var description: String { rawValue }
    }

    /// The operations of the `FileSystem` seam, for fault injection and call counts.
    public enum Operation: String, Sendable, CaseIterable, Hashable, CustomStringConvertible {
        // One case per line, in the seam's order; `allCases` keeps that order.
        /// Opening a file (`open`); counted only when it may create the file.
        case open
        /// Closing a descriptor (`close`).
        case close
        /// Reading at an offset (`pread`).
        case read
        /// Writing at an offset (`pwrite`).
        case write
        /// Making a file's data durable (`fdatasync`).
        case syncData
        /// Making a file's data and metadata durable (`fsync`).
        case sync
        /// Making a directory's entries durable (`fsync` on the directory).
        case syncDirectory
        /// Setting a file's size (`ftruncate`).
        case truncate
        /// Reserving a file's space (`posix_fallocate`).
        case allocate
        /// Reading a file's size (`fstat`).
        case size
        /// Renaming a file (`rename`).
        case rename
        /// Removing a file (`unlink`).
        case remove
        /// Creating a directory (`mkdir`).
        case makeDirectory
        /// Listing a directory's names (`readdir`).
        case listDirectory
        /// Checking that a path exists (`access`).
        case exists
        /// Taking the exclusive writer lock without waiting (`flock`).
        case lock

        /// Whether a call can change the disk or what of it is durable, and so counts
        /// towards ``SimulatedFileSystem/ioCallCount``: not reads, sizes, listings,
        /// existence checks, locks, closes, nor opens of existing files (an open
        /// counts only when it may create the file).
        public var changesDisk: Bool {
            switch self {
            case .read, .size, .listDirectory, .exists, .lock, .close: false
            default: true
            }
        }

        /// The operation's name, such as `syncData`.
        public var description: String { rawValue }
    }

    /// An injected I/O error.
    public struct Fault: Sendable, Hashable, CustomStringConvertible {
        /// The operation that fails.
        public var operation: Operation
        /// Fail the `nthCall`-th call of `operation` (1-based, counted from when the fault is injected).
        public var nthCall: Int
        /// The errno it fails with (``SimulatedFileSystem/ioError``, ``SimulatedFileSystem/noSpace``).
        public var errno: Int32
        /// Keep failing every later call of `operation` too.
        public var persistent: Bool
        /// Only calls on paths containing this count (nil: every path).
        public var pathContains: String?

        /// A fault on the `nthCall`-th call of `operation`.
        public init(_ operation: Operation, nthCall: Int = 1, errno: Int32, persistent: Bool = false, pathContains: String? = nil) {
            self.operation = operation
            self.nthCall = nthCall
            self.errno = errno
            self.persistent = persistent
            self.pathContains = pathContains
        }

        /// The fault in short, such as `write #3 EIO persistent on *segment*`.
        public var description: String {
            let name = errno == Errno.noSpace ? "ENOSPC" : errno == Errno.io ? "EIO" : "errno \(errno)"
            return "\(operation) #\(nthCall) \(name)\(persistent ? " persistent" : "")"
                + (pathContains.map { " on *\($0)*" } ?? "")
        }
    }

    private let disk: Mutex<SimulatedDisk>

    /// An empty file system (just `/`) whose crashes are decided by `seed`.
    ///
    /// - Parameter writesPersistInOrder: by default a power loss decides each unsynced
    ///   write of a file independently, as a disk with a volatile cache may persist
    ///   them in any order. When true, what reaches the disk is a prefix of the file's
    ///   unsynced changes, the last one possibly torn.
    public init(seed: UInt64, writesPersistInOrder: Bool = false) {
        let disk = SimulatedDisk(seed: seed)
        disk.writesPersistInOrder = writesPersistInOrder
        self.disk = Mutex(disk)
    }

    /// The most recent counted calls (`#n operation path detail`), crashes, and what
    /// each power loss did to every unsynced change, oldest first (the last 1,000 to 2,000).
    public var callLog: [String] { disk.withLock { $0.journal.map(\.description) } }

    // MARK: Crashes

    /// Simulates a power loss now (see the type's description).
    public func crash() { crash(.powerLoss) }

    /// Simulates a process crash now: everything written stays, descriptors and locks go.
    public func crashProcess() { crash(.processCrash) }

    /// Simulates a crash of the given kind now.
    public func crash(_ kind: CrashKind) {
        disk.withLock { $0.crash(kind) }
    }

    /// Crashes now, unless more than `count` crashes happened already (a scheduled
    /// crash that fired on another thread meanwhile); cancels a scheduled crash.
    /// Returns whether it crashed.
    @discardableResult
    public func crash(_ kind: CrashKind, unlessCrashesExceed count: Int) -> Bool {
        disk.withLock { disk in
            disk.scheduledCrash = nil
            disk.crashAfterOperation = nil
            guard disk.crashes.count <= count else { return false }
            disk.crash(kind)
            return true
        }
    }

    /// Crashes right after the `count`-th counted I/O call from now completes (the
    /// call takes effect, then the machine dies). A crash that happens first cancels it.
    public func scheduleCrash(_ kind: CrashKind, afterIOCalls count: Int) {
        precondition(count >= 1, "a crash is scheduled after at least one call")
        disk.withLock { $0.scheduledCrash = ($0.ioCalls + count, kind) }
    }

    /// Crashes right after the next call of `operation` (on a path containing
    /// `pathContains`, if given) completes: "pull the plug right after the footer's
    /// ftruncate", whatever the call count.
    public func scheduleCrash(_ kind: CrashKind, after operation: Operation, onPathContaining pathContains: String? = nil) {
        disk.withLock { $0.crashAfterOperation = (operation, pathContains, kind) }
    }

    /// Cancels a scheduled crash that has not happened.
    public func cancelScheduledCrash() {
        disk.withLock { disk in
            disk.scheduledCrash = nil
            disk.crashAfterOperation = nil
        }
    }

    /// The crashes so far, in order.
    public var crashes: [CrashKind] { disk.withLock { $0.crashes } }

    /// How many crashes happened so far.
    public var crashCount: Int { disk.withLock { $0.crashes.count } }

    // MARK: Faults and counters

    /// Arms `fault`; its call count starts now. Several faults may be armed at once.
    public func inject(_ fault: Fault) {
        precondition(fault.nthCall >= 1, "calls are counted from 1")
        disk.withLock { $0.faults.append((fault, 0)) }
    }

    /// Disarms every fault.
    public func removeFaults() { disk.withLock { $0.faults.removeAll() } }

    /// How many calls failed because of an injected fault.
    public var faultsTriggered: Int { disk.withLock { $0.faultsTriggered } }

    /// Counted I/O calls so far: the calls that can change the disk or its durability
    /// (creating opens, writes, syncs, size changes, renames, removals, mkdir). A
    /// crash scheduled after the k-th of them lands between two such calls.
    public var ioCallCount: Int { disk.withLock { $0.ioCalls } }

    /// Calls of `operation` so far (counted or not).
    public func callCount(_ operation: Operation) -> Int { disk.withLock { $0.callCounts[operation] ?? 0 } }

    /// Descriptors currently open (0 once every store on this file system is closed and released).
    public var openDescriptorCount: Int { disk.withLock { $0.descriptors.count } }

    /// Calls the engine should never make: on a closed descriptor, or writing through a
    /// read-only one. Empty in a correct run.
    public var misuses: [String] { disk.withLock { $0.misuses } }

    // MARK: Inspecting and arranging the disk (for tests)

    /// Creates `path` and its parents, durably (as if created and synced long ago).
    public func makeDurableDirectory(_ path: String) {
        disk.withLock { disk in
            var prefix = ""
            for component in SimulatedDisk.normalize(path).split(separator: "/") {
                let parent = prefix.isEmpty ? "/" : prefix
                prefix += "/" + component
                if disk.directories[prefix] == nil {
                    disk.directories[prefix] = SimulatedDirectory()
                    disk.directories[parent]!.current[String(component)] = .directory
                }
                disk.directories[parent]!.durable[String(component)] = .directory
            }
        }
    }

    /// Every file's durable bytes by path: what a power loss with every unsynced change
    /// lost would leave. Two runs of the same history and seed give the same snapshot.
    public func durableSnapshot() -> [String: [UInt8]] {
        disk.withLock { disk in
            var files: [String: [UInt8]] = [:]
            for (path, directory) in disk.directories {
                for (name, entry) in directory.durable {
                    if case .file(let number) = entry, let inode = disk.inodes[number] {
                        files[path == "/" ? "/" + name : path + "/" + name] = inode.durable
                    }
                }
            }
            return files
        }
    }

    /// The names in a directory as reads see them, sorted (nil if it does not exist).
    public func names(in path: String) -> [String]? {
        disk.withLock { $0.directories[SimulatedDisk.normalize(path)]?.current.keys.sorted() }
    }

    /// The bytes reads of `path` return now, or nil if there is no such file.
    public func contents(of path: String) -> [UInt8]? {
        disk.withLock { disk in
            guard case .file(let number) = disk.entry(path) else { return nil }
            return disk.inodes[number]?.current
        }
    }

    /// The unsynced changes of `path` (writes, truncations, allocations) not yet durable.
    public func pendingChangeCount(of path: String) -> Int {
        disk.withLock { disk in
            guard case .file(let number) = disk.entry(path) else { return 0 }
            return disk.inodes[number]?.pending.count ?? 0
        }
    }

    /// Replaces bytes of `path` on the platter and in the cache alike: bit rot or a
    /// misdirected write, for corruption tests. Returns false if there is no such file.
    @discardableResult
    public func damage(_ path: String, at offset: Int, with bytes: [UInt8]) -> Bool {
        disk.withLock { disk in
            guard case .file(let number) = disk.entry(path), let inode = disk.inodes[number] else { return false }
            let change = PendingFileChange.write(offset: offset, bytes: bytes)
            change.apply(to: &inode.durable)
            change.apply(to: &inode.current)
            return true
        }
    }

    /// Flips the bits of `mask` in the byte at `offset` of `path` (see ``damage(_:at:with:)``).
    @discardableResult
    public func flip(_ path: String, at offset: Int, mask: UInt8 = 0xFF) -> Bool {
        guard let current = contents(of: path), offset < current.count else { return false }
        return damage(path, at: offset, with: [current[offset] ^ mask])
    }

    // MARK: The seam

    /// A `FileSystem` for one process: after a crash its calls fail, as a dead
    /// process's would; a store opened after the crash gets a new one.
    func attach() -> SimulatedProcessFileSystem {
        SimulatedProcessFileSystem(simulation: self, generation: disk.withLock { $0.generation })
    }

    /// Runs one call: refuses a dead process, counts it, fails it if a fault says so,
    /// applies it, and pulls the plug if a crash is scheduled right after it.
    func perform<T: Sendable>(
        _ operation: Operation, _ path: String, generation: Int, counted: Bool, detail: JournalEntry.Detail = .none,
        onFault: (SimulatedDisk) -> Void = { _ in }, _ body: (SimulatedDisk) throws -> T
    ) throws -> T {
        try disk.withLock { disk -> T in
            guard disk.generation == generation else {
                throw Self.error(operation.rawValue, path, Errno.io, "the simulated process crashed; reopen the store")
            }
            disk.callCounts[operation, default: 0] += 1
            if counted {
                disk.ioCalls += 1
                disk.record(JournalEntry(call: disk.ioCalls, operation: operation, path: path, detail: detail))
            }
            defer {
                var kind: CrashKind?
                if let scheduled = disk.scheduledCrash, disk.ioCalls >= scheduled.afterIOCalls { kind = scheduled.kind }
                if let scheduled = disk.crashAfterOperation, scheduled.operation == operation,
                    scheduled.pathContains.map({ path.contains($0) }) ?? true
                {
                    kind = scheduled.kind
                }
                if let kind { disk.crash(kind) }
            }
            if let errno = Self.injectedFault(operation, path, creating: counted, &disk) {
                onFault(disk)
                if counted { disk.journal[disk.journal.count - 1].detail = .failed(errno) }
                throw Self.error(operation.rawValue, path, errno, "injected fault")
            }
            return try body(disk)
        }
    }

    private static func injectedFault(_ operation: Operation, _ path: String, creating: Bool, _ disk: inout SimulatedDisk) -> Int32? {
        var failing: Int32?
        for index in disk.faults.indices where disk.faults[index].fault.operation == operation {
            let fault = disk.faults[index].fault
            if let part = fault.pathContains, !path.contains(part) { continue }
            // Opening an existing file needs no space: ENOSPC hits only creating opens.
            if operation == .open && fault.errno == Errno.noSpace && !creating { continue }
            disk.faults[index].seen += 1
            let seen = disk.faults[index].seen
            if failing == nil && (seen == fault.nthCall || (fault.persistent && seen > fault.nthCall)) { failing = fault.errno }
        }
        if failing != nil { disk.faultsTriggered += 1 }
        return failing
    }

    static func error(_ operation: String, _ path: String, _ errno: Int32, _ message: String) -> SystemError {
        SystemError(operation: operation, path: path, errno: errno, message: "\(message) (simulated)")
    }
}
