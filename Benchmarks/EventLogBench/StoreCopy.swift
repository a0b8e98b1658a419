// A working copy of a kept store for rows that change the store they measure
// (compaction rewrites its segments), so the kept original stays as built and is
// reused by the next round and the next run.
//
// Copying gigabytes each round would cost more disk time than the rows measure,
// so the files the store never writes in place are hard-linked instead: sealed
// segments and index files, which the engine only replaces whole (a new file
// renamed over the old name, which leaves the kept store's file alone). The
// active segment (appended to, then sealed in place) and the small files are
// copied. Should the engine ever write a linked file in place, the check after
// the round sees its size or modification time change, and the kept store is
// thrown away rather than measured again.
import Foundation

/// The hard-linked files of a working copy, as they were when linked.
struct StoreCopy: Sendable {
    static let chunkSizeBytes = 1 << 20

    /// The kept store's folder.
    let source: String
    let destination: String
    /// Each linked file's name and its content stamp before the round.
    private let linked: [(name: String, stamp: RawFile.ContentStamp)]
    /// Bytes copied (not linked).
    let copiedBytes: Int

    /// Makes `destination` (a new folder) a working copy of the closed store in
    /// `source` (a flat folder of files): sealed segments and index files linked,
    /// the rest copied; copied files and the folder are synced, so that no
    /// writeback of the copy competes with the measurement that follows.
    static func make(from source: String, to destination: String) throws -> StoreCopy {
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)
        let names = try FileManager.default.contentsOfDirectory(atPath: source).sorted()
        // Segment names are their first position, zero-padded: the last is the active one.
        let activeSegment = names.last { $0.hasSuffix(".seg") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSizeBytes, alignment: 4096)
        defer { buffer.deallocate() }
        var linked: [(name: String, stamp: RawFile.ContentStamp)] = []
        var copiedBytes = 0
        for name in names {
            let sourcePath = "\(source)/\(name)"
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: sourcePath, isDirectory: &isDirectory)
            // The benchmark's stores have no snapshots, so no subfolder: one here
            // means the store is not the one the rows built.
            guard !isDirectory.boolValue else {
                throw BenchmarkError("\(sourcePath): a folder in a benchmark store; delete \(source) to rebuild it")
            }
            if (name.hasSuffix(".seg") && name != activeSegment) || name.hasSuffix(".idx") {
                linked.append((name, try RawFile.contentStamp(sourcePath)))
                try RawFile.link(sourcePath, to: "\(destination)/\(name)")
                continue
            }
            let input = try RawFile.openForReading(sourcePath)
            let output = try RawFile.create("\(destination)/\(name)")
            var offset = 0
            while true {
                let count = try input.read(into: buffer, at: offset)
                if count == 0 { break }
                try output.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), at: offset)
                offset += count
            }
            try output.sync()
            try output.close()
            try input.close()
            copiedBytes += offset
        }
        // The new names are data too.
        let folder = try RawFile.openForReading(destination)
        try folder.sync()
        try folder.close()
        return StoreCopy(source: source, destination: destination, linked: linked, copiedBytes: copiedBytes)
    }

    /// Throws if a linked file of the kept store was written in place while the
    /// copy was used (its size or modification time changed).
    func verifySourceUnchanged() throws {
        for (name, stamp) in linked where try RawFile.contentStamp("\(source)/\(name)") != stamp {
            throw BenchmarkError("the store wrote \(name) in place, a file the working copy shares with the kept "
                + "store in \(source) (StoreCopy.swift assumes sealed segments and index files are only replaced "
                + "whole): the kept store is no longer as built")
        }
    }

    /// Removes the working copy (the kept store's names of linked files stay).
    func remove() throws { try FileManager.default.removeItem(atPath: destination) }
}
