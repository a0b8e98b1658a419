// The store's own threads, named so that top, perf and a debugger show which is
// which. Foundation's `Thread.name`, set before `start()`, never reaches the
// thread on Linux (the thread kept its creator's name, often a cooperative pool
// thread's); set by the thread itself, it reaches Linux only if the creating
// thread has already stored the new thread's handle, which it does after the
// thread may have started (under load, about one thread in a thousand kept its
// creator's name: `ThreadNameTests`). So the thread writes its name to its own
// `comm` file, which is how Linux renames a thread (`pthread_setname_np` is not
// in Glibc's module).
import Foundation
import Glibc

enum NamedThread {
    /// Linux keeps at most 15 bytes of a thread's name; longer names are cut there.
    static let maxNameBytes = 15

    /// Starts a thread named `name` (cut to ``maxNameBytes``) that runs `body`.
    static func start(named name: String, _ body: @escaping @Sendable () -> Void) {
        let cut = String(decoding: name.utf8.prefix(maxNameBytes), as: UTF8.self)
        let thread = Thread {
            nameCurrentThread(cut)
            body()
        }
        thread.start()
    }

    /// Names the calling thread. Best effort: a thread without its name still works.
    private static func nameCurrentThread(_ name: String) {
        Thread.current.name = name
        let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var bytes = Array(name.utf8)
        _ = write(descriptor, &bytes, bytes.count)
    }
}
