// A fresh folder per test, removed afterwards.
import Foundation

/// A unique temporary folder; `remove()` deletes it.
struct TemporaryDirectory {
    let path: String

    init(_ label: String = "eventlog-cli") {
        path = NSTemporaryDirectory() + "/\(label)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Path of a file inside the folder.
    func file(_ name: String) -> String { path + "/" + name }

    /// Path of the store folder the tests use inside this folder.
    var store: String { file("store") }
}
