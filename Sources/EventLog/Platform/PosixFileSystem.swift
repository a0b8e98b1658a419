// The real file system: thin wrappers over POSIX calls. The only file in the
// engine that touches Glibc for file I/O. Each wrapper retries on EINTR and turns
// errno into a SystemError at once; errnos that mean a programming bug trap.
import Glibc

/// The file system of the machine, through Glibc.
struct PosixFileSystem: FileSystem {
    init() {}

    func open(_ path: String, mode: OpenMode) throws -> OpenFile {
        let flags: Int32 =
            switch mode {
            case .readOnly: O_RDONLY
            case .readWrite: O_RDWR
            case .createExclusive: O_RDWR | O_CREAT | O_EXCL
            case .createOrOpen: O_RDWR | O_CREAT
            }
        let fd = try retrying("open", path) { Glibc.open(path, flags | O_CLOEXEC, 0o644) }
        return OpenFile(fd: fd, path: path)
    }

    func close(_ file: OpenFile) throws {
        // Not retried on EINTR: on Linux the descriptor is released whatever close returns.
        if Glibc.close(file.fd) != 0 { throw error("close", file.path) }
    }

    func read(_ file: OpenFile, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = try retrying("pread", file.path) {
                Glibc.pread(file.fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    func write(_ file: OpenFile, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < bytes.count {
            let n = try retrying("pwrite", file.path) {
                Glibc.pwrite(file.fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            }
            done += n
        }
    }

    func syncData(_ file: OpenFile) throws {
        _ = try retrying("fdatasync", file.path) { Glibc.fdatasync(file.fd) }
    }

    /// The corresponding C function is `sync_file_range` with `SYNC_FILE_RANGE_WRITE`.
    /// `RLIM_INFINITY` (all ones on Linux; the C macro does not import).
    private static let unlimited = rlim_t.max

    /// Raises the soft limit to the hard one (the most a process may take without
    /// privileges, as Go's runtime does for every program) when it is below `count`:
    /// the store keeps growing, so taking only `count` would run out again.
    @discardableResult func ensureOpenFileLimit(atLeast count: Int) -> Int? {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < rlim_t(count) && limit.rlim_cur < limit.rlim_max {
            var raised = limit
            // An unlimited hard limit is not a settable soft one: the kernel caps
            // descriptors at `nr_open`, 1,048,576 by default.
            raised.rlim_cur = limit.rlim_max == Self.unlimited ? max(limit.rlim_cur, 1 << 20) : limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur == Self.unlimited ? Int.max : Int(limit.rlim_cur)
    }

    func startWriteback(_ file: OpenFile, offset: UInt64, lengthBytes: UInt64) {
        guard let syncFileRange = Self.syncFileRange else { return }
        _ = syncFileRange(file.fd, Int64(offset), Int64(lengthBytes), Self.syncFileRangeWrite)
    }

    /// `sync_file_range`, looked up at run time: Glibc's module map hides it (it is a
    /// `_GNU_SOURCE` function), and a hint is worth no C shim. Nil where it is missing.
    private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    }()
    /// `SYNC_FILE_RANGE_WRITE` from <fcntl.h>: start writeback of dirty pages, do not wait.
    private static let syncFileRangeWrite: UInt32 = 2

    func mapForWriting(_ file: OpenFile, lengthBytes: UInt64) throws -> (any WritableMapping)? {
        guard try size(file) >= lengthBytes, lengthBytes > 0 else { return nil }
        let address = Glibc.mmap(nil, Int(lengthBytes), PROT_READ | PROT_WRITE, MAP_SHARED, file.fd, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else { throw error("mmap", file.path) }
        return PosixMapping(base: address, lengthBytes: lengthBytes)
    }

    func sync(_ file: OpenFile) throws {
        _ = try retrying("fsync", file.path) { Glibc.fsync(file.fd) }
    }

    func syncDirectory(_ path: String) throws {
        let fd = try retrying("open", path) { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { Glibc.close(fd) }
        _ = try retrying("fsync", path) { Glibc.fsync(fd) }
    }

    func truncate(_ file: OpenFile, toSizeBytes size: UInt64) throws {
        _ = try retrying("ftruncate", file.path) { Glibc.ftruncate(file.fd, off_t(size)) }
    }

    func allocate(_ file: OpenFile, sizeBytes size: UInt64) throws {
        let result = Glibc.posix_fallocate(file.fd, 0, off_t(size))
        // posix_fallocate returns the error number instead of setting errno.
        if result != 0 { throw SystemError(operation: "fallocate", path: file.path, errno: result, message: describe(result)) }
    }

    func size(_ file: OpenFile) throws -> UInt64 {
        var status = stat()
        _ = try retrying("fstat", file.path) { Glibc.fstat(file.fd, &status) }
        return UInt64(status.st_size)
    }

    func rename(_ from: String, to: String) throws {
        _ = try retrying("rename", from) { Glibc.rename(from, to) }
    }

    func remove(_ path: String) throws {
        _ = try retrying("unlink", path) { Glibc.unlink(path) }
    }

    func makeDirectory(_ path: String) throws {
        if Glibc.mkdir(path, 0o755) != 0 && errno != EEXIST { throw error("mkdir", path) }
    }

    func listDirectory(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw error("opendir", path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    func tryLockExclusive(_ file: OpenFile) throws -> Bool {
        while true {
            if flock(file.fd, LOCK_EX | LOCK_NB) == 0 { return true }
            switch errno {
            case EINTR: continue
            case EWOULDBLOCK: return false
            default: throw error("flock", file.path)
            }
        }
    }

    // MARK: errno handling

    private func retrying<T: BinaryInteger>(_ operation: String, _ path: String, _ call: () -> T) throws -> T {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            precondition(code != EBADF && code != EFAULT, "\(operation)(\(path)): \(describe(code)): a programming error")
            throw SystemError(operation: operation, path: path, errno: code, message: describe(code))
        }
    }

    private func error(_ operation: String, _ path: String) -> SystemError {
        let code = errno
        return SystemError(operation: operation, path: path, errno: code, message: describe(code))
    }
}

/// A `MAP_SHARED` mapping of a file, unmapped when the last user lets go. Writes
/// are `memcpy`s into the page cache; `fdatasync` of the file writes them back.
/// An I/O error reading a page in (the tail page of a reopened segment) arrives
/// as `SIGBUS`, not as an error: the price of no system call per write.
private final class PosixMapping: WritableMapping, @unchecked Sendable {
    // @unchecked: the pointer is immutable; the bytes behind it are written by one
    // thread at a time (the write turn), which the queue mutex hands over.
    let lengthBytes: UInt64
    private let base: UnsafeMutableRawPointer

    init(base: UnsafeMutableRawPointer, lengthBytes: UInt64) {
        self.base = base
        self.lengthBytes = lengthBytes
    }

    deinit { Glibc.munmap(base, Int(lengthBytes)) }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) {
        precondition(offset + UInt64(bytes.count) <= lengthBytes, "write past the mapping")
        guard let source = bytes.baseAddress else { return }
        (base + Int(offset)).copyMemory(from: source, byteCount: bytes.count)
    }
}

/// The C library's description of an errno value.
func describe(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Well-known errno values, so code outside Platform need not import Glibc.
enum Errno {
    static let noSpace = ENOSPC
    static let io = EIO
    static let notFound = ENOENT
    static let exists = EEXIST
}
