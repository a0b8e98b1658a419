// The `FileSystem` seam over the simulated disk, as one process sees it. Each
// store opened on a `SimulatedFileSystem` gets one; after a crash it is dead, so
// a store left over from before the crash cannot touch the disk it crashed on.

/// One process's view of a ``SimulatedFileSystem``.
struct SimulatedProcessFileSystem: FileSystem {
    let simulation: SimulatedFileSystem
    /// The disk's crash generation when this process started.
    let generation: Int

    private func perform<T: Sendable>(
        _ operation: SimulatedFileSystem.Operation, _ path: String, counted: Bool? = nil, detail: JournalEntry.Detail = .none,
        onFault: (SimulatedDisk) -> Void = { _ in }, _ body: (SimulatedDisk) throws -> T
    ) throws -> T {
        try simulation.perform(
            operation, path, generation: generation, counted: counted ?? operation.changesDisk, detail: detail, onFault: onFault,
            body)
    }

    func open(_ path: String, mode: OpenMode) throws -> OpenFile {
        try perform(.open, path, counted: mode == .createExclusive || mode == .createOrOpen) { disk in
            let (parentPath, name) = SimulatedDisk.split(path)
            let parent = try disk.directory(parentPath, for: "open", path)
            let inode: SimulatedInode
            switch (parent.current[name], mode) {
            case (.directory?, _):
                throw SimulatedFileSystem.error("open", path, SimulatedErrno.isDirectory, "is a directory")
            case (.file?, .createExclusive):
                throw SimulatedFileSystem.error("open", path, Errno.exists, "file exists")
            case (.file(let number)?, _):
                inode = disk.inodes[number]!
            case (nil, .readOnly), (nil, .readWrite):
                throw SimulatedFileSystem.error("open", path, Errno.notFound, "no such file")
            case (nil, .createExclusive), (nil, .createOrOpen):
                inode = disk.makeInode()
                parent.change(.link(name: name, entry: .file(inode: inode.number)))
            }
            let fd = disk.makeDescriptor(SimulatedDescriptor(inode: inode.number, path: path, isWritable: mode != .readOnly))
            return OpenFile(fd: fd, path: path)
        }
    }

    func close(_ file: OpenFile) throws {
        // As on Linux, the descriptor is released whatever close reports.
        try perform(.close, file.path, onFault: { $0.releaseDescriptor(file.fd) }) { disk in
            _ = try disk.descriptor(file, for: "close")
            disk.releaseDescriptor(file.fd)
        }
    }

    func read(_ file: OpenFile, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        try perform(.read, file.path) { disk in
            let (_, inode) = try disk.descriptor(file, for: "pread")
            let start = Int(clamping: offset)
            guard start < inode.current.count else { return 0 }
            let count = min(buffer.count, inode.current.count - start)
            inode.current.withUnsafeBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress! + start, byteCount: count)
            }
            return count
        }
    }

    func write(_ file: OpenFile, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        try perform(.write, file.path, detail: .range(offset: offset, count: bytes.count)) { disk in
            let (_, inode) = try disk.descriptor(file, for: "pwrite", writing: true)
            guard bytes.count > 0 else { return }
            inode.change(.write(offset: Int(offset), bytes: Array(bytes)))
        }
    }

    /// A mapping whose writes are this process's `write`s: the simulated disk has
    /// no memory to map, and its page-cache model (and every fault and crash point)
    /// then applies to mapped writes exactly as to the others.
    func mapForWriting(_ file: OpenFile, lengthBytes: UInt64) throws -> (any WritableMapping)? {
        guard try size(file) >= lengthBytes, lengthBytes > 0 else { return nil }
        return SimulatedMapping(fileSystem: self, file: file, lengthBytes: lengthBytes)
    }

    func syncData(_ file: OpenFile) throws {
        try perform(.syncData, file.path, onFault: { disk in Self.failSync(file, disk) }) { disk in
            try disk.descriptor(file, for: "fdatasync").1.syncData()
        }
    }

    func sync(_ file: OpenFile) throws {
        try perform(.sync, file.path, onFault: { disk in Self.failSync(file, disk) }) { disk in
            try disk.descriptor(file, for: "fsync").1.sync()
        }
    }

    /// A failed sync loses the file's dirty pages' claim to be written (fsyncgate).
    private static func failSync(_ file: OpenFile, _ disk: SimulatedDisk) {
        if let descriptor = disk.descriptors[file.fd] { disk.inodes[descriptor.inode]?.failSync() }
    }

    func syncDirectory(_ path: String) throws {
        try perform(.syncDirectory, path) { disk in
            try disk.directory(SimulatedDisk.normalize(path), for: "fsync", path).sync()
        }
    }

    func truncate(_ file: OpenFile, toSizeBytes size: UInt64) throws {
        try perform(.truncate, file.path, detail: .size(size)) { disk in
            try disk.descriptor(file, for: "ftruncate", writing: true).1.change(.truncate(sizeBytes: Int(size)))
        }
    }

    func allocate(_ file: OpenFile, sizeBytes size: UInt64) throws {
        try perform(.allocate, file.path, detail: .size(size)) { disk in
            try disk.descriptor(file, for: "fallocate", writing: true).1.change(.allocate(sizeBytes: Int(size)))
        }
    }

    func size(_ file: OpenFile) throws -> UInt64 {
        try perform(.size, file.path) { disk in UInt64(try disk.descriptor(file, for: "fstat").1.current.count) }
    }

    func rename(_ from: String, to: String) throws {
        try perform(.rename, from, detail: .target(to)) { disk in
            let (fromParentPath, fromName) = SimulatedDisk.split(from)
            let (toParentPath, toName) = SimulatedDisk.split(to)
            let fromParent = try disk.directory(fromParentPath, for: "rename", from)
            let toParent = try disk.directory(toParentPath, for: "rename", to)
            guard let entry = fromParent.current[fromName] else {
                throw SimulatedFileSystem.error("rename", from, Errno.notFound, "no such file")
            }
            guard entry != .directory, toParent.current[toName] != .directory else {
                throw SimulatedFileSystem.error("rename", from, SimulatedErrno.isDirectory, "directories are not renamed here")
            }
            if fromParentPath == toParentPath {
                fromParent.change(.rename(from: fromName, to: toName, entry: entry))
            } else {
                toParent.change(.link(name: toName, entry: entry))
                fromParent.change(.unlink(name: fromName))
            }
        }
    }

    func remove(_ path: String) throws {
        try perform(.remove, path) { disk in
            let (parentPath, name) = SimulatedDisk.split(path)
            let parent = try disk.directory(parentPath, for: "unlink", path)
            switch parent.current[name] {
            case nil: throw SimulatedFileSystem.error("unlink", path, Errno.notFound, "no such file")
            case .directory?: throw SimulatedFileSystem.error("unlink", path, SimulatedErrno.isDirectory, "is a directory")
            case .file?: parent.change(.unlink(name: name))
            }
        }
    }

    func makeDirectory(_ path: String) throws {
        try perform(.makeDirectory, path) { disk in
            let normalized = SimulatedDisk.normalize(path)
            let (parentPath, name) = SimulatedDisk.split(normalized)
            let parent = try disk.directory(parentPath, for: "mkdir", path)
            switch parent.current[name] {
            case .directory?: return  // like PosixFileSystem, an existing folder is fine
            case .file?: throw SimulatedFileSystem.error("mkdir", path, Errno.exists, "a file has that name")
            case nil:
                parent.change(.link(name: name, entry: .directory))
                // A folder whose entry a power loss undid may still have a (dropped) node.
                disk.directories[normalized] = SimulatedDirectory()
            }
        }
    }

    func listDirectory(_ path: String) throws -> [String] {
        try perform(.listDirectory, path) { disk in
            try disk.directory(SimulatedDisk.normalize(path), for: "opendir", path).current.keys.sorted()
        }
    }

    func exists(_ path: String) -> Bool {
        (try? perform(.exists, path) { disk in disk.entry(path) != nil }) ?? false
    }

    func tryLockExclusive(_ file: OpenFile) throws -> Bool {
        try perform(.lock, file.path) { disk in
            let (descriptor, _) = try disk.descriptor(file, for: "flock")
            if let holder = disk.locks[descriptor.inode], holder != file.fd { return false }
            disk.locks[descriptor.inode] = file.fd
            return true
        }
    }
}

/// A simulated mapping: each write goes through the simulated process's `write`.
private final class SimulatedMapping: WritableMapping {
    let fileSystem: SimulatedProcessFileSystem
    let file: OpenFile
    let lengthBytes: UInt64

    init(fileSystem: SimulatedProcessFileSystem, file: OpenFile, lengthBytes: UInt64) {
        self.fileSystem = fileSystem
        self.file = file
        self.lengthBytes = lengthBytes
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        precondition(offset + UInt64(bytes.count) <= lengthBytes, "write past the mapping")
        try fileSystem.write(file, bytes, at: offset)
    }
}
