// The I/O seam: every file operation the engine performs goes through this one
// protocol, so tests can substitute a simulated file system that injects power
// loss, torn writes and I/O errors (see DESIGN.md, "Fault model").

/// An open file: its descriptor and the path it was opened with (for error messages).
struct OpenFile: Hashable, Sendable {
    let fd: Int32
    let path: String
}

/// How to open a file.
enum OpenMode: Sendable {
    /// Read only; the file must exist.
    case readOnly
    /// Read and write; the file must exist.
    case readWrite
    /// Read and write; the file must not exist yet.
    case createExclusive
    /// Read and write; created if missing (lock files).
    case createOrOpen
}

/// A failed system call: which one, on which path, and errno.
struct SystemError: Error, Sendable, CustomStringConvertible {
    let operation: String
    let path: String
    let errno: Int32
    let message: String

    var description: String { "\(operation)(\(path)): \(message) (errno \(errno))" }
}

/// The first `lengthBytes` of a file mapped into memory and shared with the page
/// cache: a write through it is a write to the file, without a system call. Readers
/// of the file (`pread`, in this process or another) see it at once; a sync of the
/// file makes it durable. Used by one thread at a time (the writer's turn).
protocol WritableMapping: AnyObject, Sendable {
    var lengthBytes: UInt64 { get }
    /// Copies `bytes` into the file at `offset`; the range lies within `lengthBytes`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws
}

/// Every file operation the engine performs. Implementations retry on EINTR and
/// throw ``SystemError`` for operating errors.
protocol FileSystem: Sendable {
    func open(_ path: String, mode: OpenMode) throws -> OpenFile
    func close(_ file: OpenFile) throws
    /// Reads up to `buffer.count` bytes at `offset`; fewer only at end of file.
    func read(_ file: OpenFile, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int
    /// Writes all of `bytes` at `offset`.
    func write(_ file: OpenFile, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws
    /// Makes the file's data (and the size needed to read it) durable.
    func syncData(_ file: OpenFile) throws
    /// Makes the file's data and all its metadata durable.
    func sync(_ file: OpenFile) throws
    /// Makes the directory's entries (creations, renames, deletions) durable.
    func syncDirectory(_ path: String) throws
    func truncate(_ file: OpenFile, toSizeBytes size: UInt64) throws
    /// Reserves disk space up to `size` bytes (reads as zeros; the size grows to it).
    func allocate(_ file: OpenFile, sizeBytes size: UInt64) throws
    func size(_ file: OpenFile) throws -> UInt64
    func rename(_ from: String, to: String) throws
    func remove(_ path: String) throws
    func makeDirectory(_ path: String) throws
    func listDirectory(_ path: String) throws -> [String]
    func exists(_ path: String) -> Bool
    /// Takes an exclusive advisory lock without waiting; false if another process holds it.
    func tryLockExclusive(_ file: OpenFile) throws -> Bool
    /// Starts writing the file's dirty pages in `[offset, offset + lengthBytes)` to the
    /// device, without waiting: a hint that leaves a later sync less to do, so a long
    /// write (compaction) does not end in one sync that stalls the writer's. Promises
    /// nothing about durability; errors show at the sync.
    func startWriteback(_ file: OpenFile, offset: UInt64, lengthBytes: UInt64)
    /// Maps the file's first `lengthBytes` for writing; nil where the file system
    /// has no mappings. The file must be at least that long and must not shrink
    /// while mapped: a write past its end would kill the process (`SIGBUS`).
    func mapForWriting(_ file: OpenFile, lengthBytes: UInt64) throws -> (any WritableMapping)?
    /// Makes room for at least `count` open descriptors in this process where it
    /// can: a store keeps every segment file open, so a store of more segments than
    /// the soft limit (often 1,024) could not be opened. Best effort; returns the
    /// soft limit after, nil where there is none (the simulated disk).
    @discardableResult func ensureOpenFileLimit(atLeast count: Int) -> Int?
}

extension FileSystem {
    /// No writeback hint: the default for file systems without one (the simulated disk).
    func startWriteback(_ file: OpenFile, offset: UInt64, lengthBytes: UInt64) {}

    /// No mappings: the default for file systems without them (writes use `write`).
    func mapForWriting(_ file: OpenFile, lengthBytes: UInt64) throws -> (any WritableMapping)? { nil }

    /// No descriptor limit: the default for file systems without one.
    @discardableResult func ensureOpenFileLimit(atLeast count: Int) -> Int? { nil }

    /// Writes `bytes` to a new file at `path` atomically: temporary file, fsync,
    /// rename over `path`, fsync of the directory. Readers see the old or the new
    /// content, never a mix, even across a crash.
    func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws {
        let temporaryPath = path + ".tmp"
        if exists(temporaryPath) { try remove(temporaryPath) }
        let file = try open(temporaryPath, mode: .createExclusive)
        do {
            try bytes.withUnsafeBytes { try write(file, $0, at: 0) }
            try sync(file)
        } catch {
            try? close(file)
            throw error
        }
        try close(file)
        try rename(temporaryPath, to: path)
        try syncDirectory(directory)
    }

    /// Reads a whole small file.
    func readWholeFile(_ path: String) throws -> [UInt8] {
        let file = try open(path, mode: .readOnly)
        defer { try? close(file) }
        let count = Int(try size(file))
        // Read straight into the array's storage: zero-filling it first and copying
        // out the part read cost as much as the read itself for a checkpoint of
        // megabytes (most of an open).
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            initializedCount = try self.read(file, into: UnsafeMutableRawBufferPointer(buffer), at: 0)
        }
    }
}

/// Paths of files in a store's folder.
enum FilePaths {
    /// `directory`, a slash and `name`, made in one buffer: `directory + "/" + name`
    /// grows a string twice, about 700 instructions each, and an open builds two
    /// paths per segment (callgrind).
    static func joined(_ directory: String, _ name: String) -> String {
        var directory = directory
        var name = name
        return directory.withUTF8 { directoryBytes in
            name.withUTF8 { nameBytes in
                String(unsafeUninitializedCapacity: directoryBytes.count + 1 + nameBytes.count) { buffer in
                    let raw = UnsafeMutableRawBufferPointer(buffer)
                    raw.copyMemory(from: UnsafeRawBufferPointer(directoryBytes))
                    raw[directoryBytes.count] = UInt8(ascii: "/")
                    let nameStart = directoryBytes.count + 1
                    UnsafeMutableRawBufferPointer(rebasing: raw[nameStart...]).copyMemory(from: UnsafeRawBufferPointer(nameBytes))
                    return buffer.count
                }
            }
        }
    }
}
