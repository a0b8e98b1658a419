// The one folder the benchmark creates: fresh for each run, so that no store or
// baseline file of an earlier run is measured, and removed whole at the end.
import Foundation
import Glibc

/// A fresh folder made with mkdtemp; `remove()` deletes it and everything in it.
struct ScratchDirectory: Sendable {
    let path: String
    /// The absolute folder it was made in (`--dir`, or the temp folder), where
    /// stores worth keeping between runs live beside it.
    let parentPath: String

    /// Makes `eventlog-bench-XXXXXX` inside `parent`, or inside the system temp
    /// folder ($TMPDIR, else /tmp) when `parent` is nil.
    static func create(in parent: String?) throws -> ScratchDirectory {
        var base = parent ?? FileManager.default.temporaryDirectory.path
        // Absolute, so the paths in progress lines and errors say where the files were.
        if !base.hasPrefix("/") { base = FileManager.default.currentDirectoryPath + "/" + base }
        base = URL(fileURLWithPath: base).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: base, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BenchmarkError("--dir \(base): no such folder")
        }
        var template = Array((base + "/eventlog-bench-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw SystemCallError(operation: "mkdtemp", path: base, errno: Glibc.errno)
        }
        return ScratchDirectory(
            path: template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }, parentPath: base)
    }

    /// Deletes the folder and its contents.
    func remove() throws { try FileManager.default.removeItem(atPath: path) }
}
