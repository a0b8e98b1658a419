// The store's own threads, named so that top, perf and a debugger show which is
// which. Foundation's `Thread.name`, set before `start()`, never reaches the
// thread on Linux (the thread kept its creator's name, often a cooperative pool
// thread's), so the name is set by the thread itself.
import Foundation

enum NamedThread {
    /// Linux keeps at most 15 bytes of a thread's name; longer names are cut there.
    static let maxNameBytes = 15

    /// Starts a thread named `name` (cut to ``maxNameBytes``) that runs `body`.
    static func start(named name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            // Foundation names the running thread only (`pthread_setname_np` is not in Glibc's module).
            Thread.current.name = String(decoding: name.utf8.prefix(maxNameBytes), as: UTF8.self)
            body()
        }
        thread.start()
    }
}
