// The state behind the simulated file system: what is durable, what sits only in
// the (simulated) page cache, and what a power loss does to the difference.
// Everything here runs under the simulated file system's one mutex.

/// Linux errno values the simulation raises, beside the ones ``Errno`` already names.
enum SimulatedErrno {
    static let badDescriptor: Int32 = 9  // EBADF
    static let notDirectory: Int32 = 20  // ENOTDIR
    static let isDirectory: Int32 = 21  // EISDIR
}

/// A change to a file that is in the page cache but not yet on the platter.
enum PendingFileChange: CustomStringConvertible {
    case write(offset: Int, bytes: [UInt8])
    case truncate(sizeBytes: Int)
    /// `posix_fallocate(fd, 0, size)`: grows the file to `size` (zeros), never shrinks it.
    case allocate(sizeBytes: Int)

    var isWrite: Bool {
        if case .write = self { return true }
        return false
    }

    var description: String {
        switch self {
        case .write(let offset, let bytes): "write \(offset)+\(bytes.count)"
        case .truncate(let size): "truncate \(size)"
        case .allocate(let size): "allocate \(size)"
        }
    }

    func apply(to bytes: inout [UInt8]) {
        switch self {
        case .write(let offset, let data):
            let end = offset + data.count
            if bytes.count < end { bytes.append(contentsOf: repeatElement(0, count: end - bytes.count)) }
            bytes.replaceSubrange(offset..<end, with: data)
        case .truncate(let size):
            if bytes.count > size {
                bytes.removeSubrange(size...)
            } else {
                bytes.append(contentsOf: repeatElement(0, count: size - bytes.count))
            }
        case .allocate(let size):
            if bytes.count < size { bytes.append(contentsOf: repeatElement(0, count: size - bytes.count)) }
        }
    }
}

/// A file's content: durable bytes, the bytes readers see, and the changes between them.
final class SimulatedInode {
    let number: Int
    /// What survives a power loss.
    var durable: [UInt8] = []
    /// What reads return: `durable` with the pending changes applied (plus writes a
    /// failed sync dropped from the pending list, which the page cache still shows).
    var current: [UInt8] = []
    /// Unsynced changes, oldest first.
    var pending: [PendingFileChange] = []

    init(number: Int) { self.number = number }

    func change(_ change: PendingFileChange) {
        change.apply(to: &current)
        pending.append(change)
    }

    /// `fdatasync`: every pending write becomes durable, with the size changes that
    /// came before the last of them (so nothing synced is cut off again). Size changes
    /// after the last write stay pending: only `fsync` promises those.
    func syncData() {
        guard let lastWrite = pending.lastIndex(where: \.isWrite) else { return }
        for change in pending[...lastWrite] { change.apply(to: &durable) }
        pending.removeSubrange(...lastWrite)
    }

    /// `fsync`: everything pending becomes durable.
    func sync() {
        for change in pending { change.apply(to: &durable) }
        pending.removeAll()
    }

    /// A failed sync (fsyncgate): the kernel may have dropped the dirty pages and marked
    /// them clean, so a later sync would not write them. They stay readable until a
    /// crash, which loses them.
    func failSync() {
        pending.removeAll(where: \.isWrite)
    }

    /// Power loss: each pending change independently reaches the disk, is lost, or
    /// (a write) is torn at a sector boundary with garbage in the sector being written.
    /// With `inOrder`, the changes that reach the disk are a prefix of the pending
    /// ones (the next possibly torn), as when a device writes back in order.
    /// Returns what happened to each change, for the journal.
    func losePower(_ random: inout SimulationRandom, inOrder: Bool) -> [String] {
        enum Fate { case kept, lost, torn }
        var fates: [String] = []
        let cut = inOrder ? Int.random(in: 0...pending.count, using: &random) : nil
        for (index, change) in pending.enumerated() {
            let fate: Fate
            if let cut {
                fate = index < cut ? .kept : index == cut && change.isWrite && random.chance(1, in: 2) ? .torn : .lost
            } else if change.isWrite {
                fate = [Fate.kept, .lost, .torn][Int.random(in: 0..<3, using: &random)]
            } else {
                fate = random.chance(1, in: 2) ? .kept : .lost
            }
            switch (fate, change) {
            case (.kept, _):
                change.apply(to: &durable)
                fates.append("   \(change) kept")
            case (.torn, .write(let offset, let bytes)):
                fates.append("   \(change) " + tear(offset: offset, bytes: bytes, &random))
            default:
                fates.append("   \(change) lost")
            }
        }
        pending.removeAll()
        current = durable
        return fates
    }

    /// Keeps the sectors of a write before a random sector boundary, fills (part of)
    /// the next sector with random bytes, and leaves the rest as it was.
    private func tear(offset: Int, bytes: [UInt8], _ random: inout SimulationRandom) -> String {
        let end = offset + bytes.count
        let sector = SimulatedFileSystem.sectorSizeBytes
        var boundaries = [offset]
        var boundary = (offset / sector + 1) * sector
        while boundary < end {
            boundaries.append(boundary)
            boundary += sector
        }
        let tear = boundaries.randomElement(using: &random)!
        let keptEnd = tear
        if keptEnd > offset {
            PendingFileChange.write(offset: offset, bytes: Array(bytes[0..<(keptEnd - offset)])).apply(to: &durable)
        }
        let sectorEnd = min((tear / sector + 1) * sector, end)
        let garbageCount = Int.random(in: 0...(sectorEnd - tear), using: &random)
        if garbageCount > 0 {
            PendingFileChange.write(offset: tear, bytes: random.bytes(garbageCount)).apply(to: &durable)
        }
        // The size may or may not have been updated for a write past the old end.
        if durable.count < end, random.chance(1, in: 2) {
            PendingFileChange.allocate(sizeBytes: end).apply(to: &durable)
        }
        return "torn at \(tear) with \(garbageCount) garbage bytes"
    }
}

/// One line of the simulated disk's journal: a counted call, or a crash and its decisions.
struct JournalEntry {
    enum Detail {
        case none
        case range(offset: UInt64, count: Int)
        case size(UInt64)
        case target(String)
        case failed(Int32)
        case note(String)
    }

    /// The counted call's number (0 for crash lines).
    let call: Int
    let operation: SimulatedFileSystem.Operation?
    let path: String
    var detail: Detail

    var description: String {
        guard let operation else {
            if case .note(let text) = detail { return path.isEmpty ? text : "\(text) (\(path))" }
            return path
        }
        let suffix: String =
            switch detail {
            case .none: ""
            case .range(let offset, let count): " \(offset)+\(count)"
            case .size(let size): " \(size)"
            case .target(let target): " -> \(target)"
            case .failed(let errno): " FAILED errno \(errno)"
            case .note(let text): " \(text)"
            }
        return "#\(call) \(operation) \(path)\(suffix)"
    }
}

/// What a directory entry names.
enum SimulatedEntry: Equatable {
    case file(inode: Int)
    case directory
}

/// An unsynced change to a directory's entries.
enum PendingDirectoryChange {
    case link(name: String, entry: SimulatedEntry)
    case unlink(name: String)
    /// Atomic, as POSIX promises: after a crash the new name refers to the old file or the new one.
    case rename(from: String, to: String, entry: SimulatedEntry)

    func apply(to entries: inout [String: SimulatedEntry]) {
        switch self {
        case .link(let name, let entry): entries[name] = entry
        case .unlink(let name): entries[name] = nil
        case .rename(let from, let to, let entry):
            entries[from] = nil
            entries[to] = entry
        }
    }
}

/// A directory: durable entries, current entries, and the changes between them.
final class SimulatedDirectory {
    var durable: [String: SimulatedEntry] = [:]
    var current: [String: SimulatedEntry] = [:]
    var pending: [PendingDirectoryChange] = []

    func change(_ change: PendingDirectoryChange) {
        change.apply(to: &current)
        pending.append(change)
    }

    func sync() {
        for change in pending { change.apply(to: &durable) }
        pending.removeAll()
    }

    /// Power loss: the file system journals entry changes in order (as ext4 and XFS
    /// do), so some prefix of the unsynced changes survives, possibly none of them.
    /// Returns what happened, for the journal (nil if nothing was pending).
    func losePower(_ random: inout SimulationRandom) -> String? {
        guard !pending.isEmpty else { return nil }
        let kept = Int.random(in: 0...pending.count, using: &random)
        for change in pending[..<kept] { change.apply(to: &durable) }
        let lost = pending[kept...].map { change -> String in
            switch change {
            case .link(let name, _): "create \(name)"
            case .unlink(let name): "unlink \(name)"
            case .rename(let from, let to, _): "rename \(from) -> \(to)"
            }
        }
        pending.removeAll()
        current = durable
        return "   \(kept) entry change(s) kept" + (lost.isEmpty ? "" : ", lost: " + lost.joined(separator: ", "))
    }
}

/// An open file description.
struct SimulatedDescriptor {
    let inode: Int
    let path: String
    let isWritable: Bool
}

/// The whole simulated machine: files, directories, descriptors, locks, the
/// counters and the armed faults. Accessed only under ``SimulatedFileSystem``'s mutex.
final class SimulatedDisk {
    var random: SimulationRandom
    var inodes: [Int: SimulatedInode] = [:]
    var directories: [String: SimulatedDirectory] = ["/": SimulatedDirectory()]
    var descriptors: [Int32: SimulatedDescriptor] = [:]
    /// Exclusive locks: inode number -> the descriptor holding it.
    var locks: [Int: Int32] = [:]
    private var nextInode = 1
    /// Descriptors are never reused, so a stale one from before a crash cannot alias a new one.
    private var nextDescriptor: Int32 = 3
    /// Bumped by every crash: handles from an older generation belong to a dead process.
    var generation = 0
    /// Whether a file's unsynced changes reach the disk only in the order they were made.
    var writesPersistInOrder = false

    var ioCalls = 0
    var callCounts: [SimulatedFileSystem.Operation: Int] = [:]
    var faults: [(fault: SimulatedFileSystem.Fault, seen: Int)] = []
    var faultsTriggered = 0
    var scheduledCrash: (afterIOCalls: Int, kind: SimulatedFileSystem.CrashKind)?
    var crashAfterOperation: (operation: SimulatedFileSystem.Operation, pathContains: String?, kind: SimulatedFileSystem.CrashKind)?
    var crashes: [SimulatedFileSystem.CrashKind] = []
    /// Calls the engine should never make (a closed descriptor, a write on a read-only one).
    var misuses: [String] = []
    /// The most recent counted calls and crash decisions (for a failure report).
    var journal: [JournalEntry] = []
    static let journalCapacity = 2_000

    func record(_ entry: JournalEntry) {
        if journal.count >= Self.journalCapacity { journal.removeFirst(Self.journalCapacity / 2) }
        journal.append(entry)
    }

    /// Every current name of each file, for naming files in crash decisions.
    func pathsByInode() -> [Int: String] {
        var paths: [Int: String] = [:]
        for (directoryPath, directory) in directories {
            for (name, entry) in directory.current.sorted(by: { $0.key < $1.key }) {
                if case .file(let number) = entry { paths[number] = (directoryPath == "/" ? "" : directoryPath) + "/" + name }
            }
        }
        return paths
    }

    init(seed: UInt64) { random = SimulationRandom(seed: seed) }

    // MARK: Paths

    static func normalize(_ path: String) -> String {
        "/" + path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }

    static func split(_ path: String) -> (parent: String, name: String) {
        let normalized = normalize(path)
        guard let slash = normalized.lastIndex(of: "/"), normalized != "/" else { return ("/", "") }
        let parent = String(normalized[..<slash])
        return (parent.isEmpty ? "/" : parent, String(normalized[normalized.index(after: slash)...]))
    }

    func directory(_ path: String, for operation: String, _ original: String) throws -> SimulatedDirectory {
        guard let directory = directories[path] else {
            throw SimulatedFileSystem.error(operation, original, Errno.notFound, "no such directory")
        }
        return directory
    }

    func entry(_ path: String) -> SimulatedEntry? {
        let normalized = Self.normalize(path)
        if normalized == "/" { return .directory }
        let (parent, name) = Self.split(normalized)
        return directories[parent]?.current[name]
    }

    // MARK: Files and descriptors

    func makeInode() -> SimulatedInode {
        let inode = SimulatedInode(number: nextInode)
        nextInode += 1
        inodes[inode.number] = inode
        return inode
    }

    func makeDescriptor(_ descriptor: SimulatedDescriptor) -> Int32 {
        let fd = nextDescriptor
        nextDescriptor += 1
        descriptors[fd] = descriptor
        return fd
    }

    func descriptor(_ file: OpenFile, for operation: String, writing: Bool = false) throws -> (SimulatedDescriptor, SimulatedInode) {
        guard let descriptor = descriptors[file.fd], let inode = inodes[descriptor.inode] else {
            misuses.append("\(operation)(\(file.path)) on descriptor \(file.fd), which is not open")
            throw SimulatedFileSystem.error(operation, file.path, SimulatedErrno.badDescriptor, "bad file descriptor")
        }
        if writing && !descriptor.isWritable {
            misuses.append("\(operation)(\(file.path)) on a read-only descriptor")
            throw SimulatedFileSystem.error(operation, file.path, SimulatedErrno.badDescriptor, "descriptor is read-only")
        }
        return (descriptor, inode)
    }

    func releaseDescriptor(_ fd: Int32) {
        descriptors[fd] = nil
        for (inode, holder) in locks where holder == fd { locks[inode] = nil }
    }

    // MARK: Crashes

    func crash(_ kind: SimulatedFileSystem.CrashKind) {
        switch kind {
        case .powerLoss: losePower()
        case .processCrash: killProcess()
        }
    }

    /// Power loss: every unsynced change meets its fate, then the machine reboots.
    func losePower() {
        record(.init(call: 0, operation: nil, path: "", detail: .note("-- power loss")))
        let names = pathsByInode()
        // Sorted, so that the same history and seed always draw the same decisions.
        for number in inodes.keys.sorted() {
            for fate in inodes[number]!.losePower(&random, inOrder: writesPersistInOrder) {
                record(.init(call: 0, operation: nil, path: names[number] ?? "inode \(number)", detail: .note(fate)))
            }
        }
        for path in directories.keys.sorted() {
            if let fate = directories[path]!.losePower(&random) { record(.init(call: 0, operation: nil, path: path, detail: .note(fate))) }
        }
        // A directory whose own entry was lost goes with everything in it.
        var reachable: Set<String> = ["/"]
        var queue = ["/"]
        var referenced = Set<Int>()
        while let path = queue.popLast() {
            guard let directory = directories[path] else { continue }
            for (name, entry) in directory.durable {
                switch entry {
                case .directory:
                    let child = path == "/" ? "/" + name : path + "/" + name
                    if reachable.insert(child).inserted { queue.append(child) }
                case .file(let inode): referenced.insert(inode)
                }
            }
        }
        directories = directories.filter { reachable.contains($0.key) }
        inodes = inodes.filter { referenced.contains($0.key) }
        endProcess()
        crashes.append(.powerLoss)
    }

    /// Process crash (kill -9): the page cache survives, every descriptor and lock goes.
    func killProcess() {
        endProcess()
        // Files whose last name was removed and whose last descriptor closed are gone,
        // unless the removal is still unsynced (a power loss could bring the name back).
        var referenced = Set<Int>()
        for directory in directories.values {
            for case .file(let inode) in directory.current.values { referenced.insert(inode) }
            for case .file(let inode) in directory.durable.values { referenced.insert(inode) }
            for change in directory.pending {
                switch change {
                case .link(_, .file(let inode)), .rename(_, _, .file(let inode)): referenced.insert(inode)
                default: break
                }
            }
        }
        inodes = inodes.filter { referenced.contains($0.key) }
        crashes.append(.processCrash)
        record(.init(call: 0, operation: nil, path: "", detail: .note("-- process crash")))
    }

    private func endProcess() {
        descriptors.removeAll()
        locks.removeAll()
        generation += 1
        scheduledCrash = nil
        crashAfterOperation = nil
    }
}
