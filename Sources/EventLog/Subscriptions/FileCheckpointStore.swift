// Durable subscriber checkpoints: each name's last processed position in a small
// checksummed file, replaced atomically, so a projection or process manager
// resumes exactly where it stopped after a crash.
import EventSourcing
import Foundation

/// Checkpoints in files under a folder (by default `checkpoints/` in the store's folder).
///
/// Each save writes a temporary file, syncs it, renames it over the previous one
/// and syncs the folder: a crash leaves the old checkpoint or the new one, never a
/// mix. A damaged file reads as no checkpoint (the subscriber starts again from 1,
/// which an idempotent projection tolerates) rather than a wrong position.
public final class FileCheckpointStore: CheckpointStore {
    /// The folder holding the checkpoint files.
    public let directory: String
    private let fileSystem: any FileSystem

    /// Checkpoints in `directory`, created (and synced into its parent) if missing.
    /// - Throws: ``EventStoreError/io(operation:path:errno:message:)``.
    public convenience init(directory: String) throws {
        try self.init(directory: directory, fileSystem: PosixFileSystem())
    }

    /// Checkpoints of `store`, in its folder's `checkpoints/`.
    /// - Throws: ``EventStoreError/io(operation:path:errno:message:)`` if the folder
    ///   cannot be created.
    public convenience init(store: FileEventStore) throws {
        try self.init(directory: store.directory + "/checkpoints")
    }

    init(directory: String, fileSystem: any FileSystem) throws {
        self.directory = directory
        self.fileSystem = fileSystem
        try translatingSystemErrors { try fileSystem.makeDirectories(directory) }
    }

    /// The checkpoint saved under `name`, read from its file.
    /// - Returns: The saved position; nil if there is none, or if the file is damaged
    ///   or belongs to another name (the subscriber then starts again from 1).
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` if `name` is empty or longer
    ///   than 1,024 UTF-8 bytes; ``EventStoreError/io(operation:path:errno:message:)``
    ///   if the file exists but cannot be read.
    /// - Complexity: O(*n*) in the length of `name`: one small file is read.
    public func checkpoint(named name: String) async throws -> GlobalPosition? {
        let path = try self.path(of: name)
        guard fileSystem.exists(path) else { return nil }
        let bytes = try translatingSystemErrors { try fileSystem.readWholeFile(path) }
        return bytes.withUnsafeBytes { CheckpointFormat.decode($0, name: name) }.map { GlobalPosition($0) }
    }

    /// Saves `position` under `name`, replacing the previous checkpoint atomically:
    /// once this returns, the new position survives a crash.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` if `name` is empty or longer
    ///   than 1,024 UTF-8 bytes; ``EventStoreError/io(operation:path:errno:message:)``
    ///   if writing, syncing or renaming the file fails.
    /// - Complexity: O(*n*) in the length of `name`, plus two file syncs.
    public func saveCheckpoint(_ position: GlobalPosition, named name: String) async throws {
        let path = try self.path(of: name)
        try translatingSystemErrors {
            try fileSystem.writeAtomically(CheckpointFormat.encode(position.rawValue, name: name), to: path, directory: directory)
        }
    }

    /// Removes the checkpoint under `name`, durably, so a rebuild starts from
    /// position 1; does nothing if there is none.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` if `name` is empty or longer
    ///   than 1,024 UTF-8 bytes; ``EventStoreError/io(operation:path:errno:message:)``
    ///   if removing the file or syncing the folder fails.
    /// - Complexity: O(*n*) in the length of `name`, plus one folder sync.
    public func removeCheckpoint(named name: String) async throws {
        let path = try self.path(of: name)
        try translatingSystemErrors {
            guard fileSystem.exists(path) else { return }
            try fileSystem.remove(path)
            try fileSystem.syncDirectory(directory)
        }
    }

    /// A file per name: the name's hash in hex (the name inside tells collisions apart).
    private func path(of name: String) throws -> String {
        guard !name.isEmpty, name.utf8.count <= 1_024 else {
            throw EventStoreError.invalidArgument("checkpoint name must be 1...1,024 UTF-8 bytes")
        }
        let hex = String(StreamHash.of(name), radix: 16)
        return directory + "/" + String(repeating: "0", count: 16 - hex.count) + hex + ".checkpoint"
    }
}

/// A checkpoint file: magic "EVLOGCKP", u32 format version, u32 name length,
/// u64 position, name (UTF-8), u32 CRC32C of everything before it.
enum CheckpointFormat {
    static let magic: [UInt8] = Array("EVLOGCKP".utf8)

    static func encode(_ position: UInt64, name: String) -> [UInt8] {
        var bytes = magic
        withUnsafeBytes(of: formatVersion.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(name.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: position.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: name.utf8)
        withUnsafeBytes(of: CRC32C.checksum(bytes).littleEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// The position, or nil for a damaged file or one written for another name.
    static func decode(_ bytes: UnsafeRawBufferPointer, name: String) -> UInt64? {
        guard bytes.count >= 28, bytes.prefix(8).elementsEqual(magic),
            bytes.loadLE(UInt32.self, at: bytes.count - 4) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 4)])),
            bytes.loadLE(UInt32.self, at: 8) == formatVersion
        else { return nil }
        let nameLength = Int(bytes.loadLE(UInt32.self, at: 12))
        guard 24 + nameLength + 4 == bytes.count,
            bytes[24..<(24 + nameLength)].elementsEqual(name.utf8)
        else { return nil }
        return bytes.loadLE(UInt64.self, at: 16)
    }
}
