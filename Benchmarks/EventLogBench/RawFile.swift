// The baselines' only door to the disk: the same system calls the store makes
// (pwrite, pread, fdatasync, posix_fallocate), with nothing in between, so that a
// row's ratio to its baseline measures the store's own overhead. Also link and
// stat, for the working copies of kept stores (StoreCopy.swift).
import Glibc

/// A failed system call, with errno and, when opening, the file.
struct SystemCallError: Error, CustomStringConvertible {
    let operation: String
    let path: String?
    let errno: Int32

    var description: String {
        let subject = path.map { "\(operation) \($0)" } ?? operation
        return "\(subject): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// An open file descriptor that this value owns: `close()` reports errors, and a
/// value dropped without it still releases its descriptor.
///
/// Holds only the descriptor, not the path: `discard self` (which lets `close()`
/// skip the deinit) needs trivially destroyed stored properties.
struct RawFile: ~Copyable {
    let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { Glibc.close(fd) }

    /// Creates `path`, or truncates it, for reading and writing. The corresponding C function is `open`.
    static func create(_ path: String) throws -> RawFile {
        let fd = try retrying("open", path) { Int(Glibc.open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)) }
        return RawFile(fd: Int32(fd))
    }

    /// Opens `path` read-only. The corresponding C function is `open`.
    static func openForReading(_ path: String) throws -> RawFile {
        let fd = try retrying("open", path) { Int(Glibc.open(path, O_RDONLY | O_CLOEXEC)) }
        return RawFile(fd: Int32(fd))
    }

    /// Reserves `sizeBytes` on disk, as the store does for each new segment.
    /// The corresponding C function is `posix_fallocate`.
    func preallocate(sizeBytes: Int) throws {
        // posix_fallocate returns the error number instead of setting errno.
        let result = Glibc.posix_fallocate(fd, 0, off_t(sizeBytes))
        if result != 0 { throw SystemCallError(operation: "posix_fallocate", path: nil, errno: result) }
    }

    /// Writes all of `bytes` at `offset`. The corresponding C function is `pwrite`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            done += try retrying("pwrite", nil) {
                Glibc.pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            }
        }
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at the end of the
    /// file. The corresponding C function is `pread`.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        var done = 0
        while done < buffer.count {
            let count = try retrying("pread", nil) {
                Glibc.pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Flushes the file's data (and the metadata needed to read it back).
    /// The corresponding C function is `fdatasync`.
    func syncData() throws {
        _ = try retrying("fdatasync", nil) { Int(Glibc.fdatasync(fd)) }
    }

    /// Flushes the file's data and all its metadata. The corresponding C function is `fsync`.
    func sync() throws {
        _ = try retrying("fsync", nil) { Int(Glibc.fsync(fd)) }
    }

    /// The file's size. The corresponding C function is `fstat`.
    func sizeBytes() throws -> Int {
        var status = stat()
        _ = try retrying("fstat", nil) { Int(Glibc.fstat(fd, &status)) }
        return Int(status.st_size)
    }

    /// Makes `newPath` a second name (hard link) of the file at `existingPath`.
    /// The corresponding C function is `link`.
    static func link(_ existingPath: String, to newPath: String) throws {
        _ = try retrying("link", newPath) { Int(Glibc.link(existingPath, newPath)) }
    }

    /// What changes when a file is written in place: its size and modification
    /// time (not its change time, which a new hard link moves too).
    struct ContentStamp: Equatable, Sendable {
        let sizeBytes: Int
        let modifiedSeconds: Int
        let modifiedNanoseconds: Int
    }

    /// The file at `path`'s ``ContentStamp`` (a symbolic link's own; stores hold
    /// none). The corresponding C function is `lstat`.
    static func contentStamp(_ path: String) throws -> ContentStamp {
        var status = stat()
        _ = try retrying("lstat", path) { Int(Glibc.lstat(path, &status)) }
        return ContentStamp(
            sizeBytes: Int(status.st_size), modifiedSeconds: Int(status.st_mtim.tv_sec),
            modifiedNanoseconds: Int(status.st_mtim.tv_nsec))
    }

    /// Closes the descriptor, reporting a failure (close is not retried: on Linux
    /// the descriptor is released whatever it returns).
    consuming func close() throws {
        let fd = self.fd
        discard self
        if Glibc.close(fd) != 0 { throw SystemCallError(operation: "close", path: nil, errno: Glibc.errno) }
    }
}

/// Runs `call` until it does not fail with EINTR; a negative result throws its
/// errno, except the errnos that mean a bug in this program, which trap.
private func retrying(_ operation: String, _ path: String?, _ call: () -> Int) throws -> Int {
    while true {
        let result = call()
        if result >= 0 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        precondition(code != EBADF && code != EFAULT, "\(operation): a bad descriptor or address is a bug (errno \(code))")
        throw SystemCallError(operation: operation, path: path, errno: code)
    }
}
