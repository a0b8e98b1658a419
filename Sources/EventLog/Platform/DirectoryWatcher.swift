// Wakes a read-only store when the writer in another process changes its
// folder (inotify), so a cross-process subscription follows live events without
// a polling loop.
import Foundation
import Glibc

/// Calls `onChange` on its own thread whenever files in a folder are written,
/// created or renamed, coalescing bursts into one call.
final class DirectoryWatcher: @unchecked Sendable {
    // @unchecked: the descriptors are immutable after init; `onChange` is Sendable.
    private let inotify: Int32
    /// A pipe: `stop()` writes to its end, which wakes the thread's poll.
    private let wake: Int32
    private let wakeWriter: Int32
    private let onChange: @Sendable () -> Void

    /// Nil if the folder cannot be watched (the caller then has no live updates).
    init?(directory: String, onChange: @escaping @Sendable () -> Void) {
        let inotify = inotify_init1(Int32(IN_CLOEXEC))
        guard inotify >= 0 else { return nil }
        let mask = UInt32(IN_MODIFY) | UInt32(IN_CREATE) | UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE)
        guard inotify_add_watch(inotify, directory, mask) >= 0 else {
            Glibc.close(inotify)
            return nil
        }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            Glibc.close(inotify)
            return nil
        }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        self.inotify = inotify
        self.wake = pipeEnds[0]
        self.wakeWriter = pipeEnds[1]
        self.onChange = onChange
        let thread = Thread { [self] in self.run() }
        thread.start()
    }

    private func run() {
        var descriptors = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            descriptors[0].revents = 0
            descriptors[1].revents = 0
            if poll(&descriptors, 2, -1) < 0 {
                if errno == EINTR { continue }
                return
            }
            if descriptors[1].revents != 0 { return }
            // Drain every queued event, then react once.
            _ = buffer.withUnsafeMutableBytes { Glibc.read(inotify, $0.baseAddress, $0.count) }
            onChange()
        }
    }

    /// Stops the thread and closes the descriptors.
    func stop() {
        var one: UInt8 = 1
        _ = Glibc.write(wakeWriter, &one, 1)
    }

    deinit {
        Glibc.close(inotify)
        Glibc.close(wake)
        Glibc.close(wakeWriter)
    }
}
