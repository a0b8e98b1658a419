// A fresh folder per test, removed afterwards.
import Foundation

/// A unique temporary folder; `remove()` deletes it.
struct TemporaryDirectory {
    let path: String

    init(_ label: String = "eventlog") {
        path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Path of a file inside the folder.
    func file(_ name: String) -> String { path + "/" + name }
}

/// One parent folder per test process for stores whose end a test cannot see
/// (conformance factories); removed when the process exits.
private let scheduledParent: String = {
    let parent = NSTemporaryDirectory() + "eventlog-scheduled-\(ProcessInfo.processInfo.processIdentifier)"
    try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: scheduledParent) }
    return parent
}()

extension TemporaryDirectory {
    /// A fresh folder removed when the test process exits.
    static func scheduledForRemoval() -> TemporaryDirectory {
        TemporaryDirectory(path: scheduledParent + "/store-\(UUID().uuidString.prefix(8))")
    }

    private init(path: String) {
        self.path = path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
}
