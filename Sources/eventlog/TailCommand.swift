// `eventlog tail`: print the log's events as JSON lines as another process appends
// them, the way `tail -f` follows a file. Opens the store read-only, so it runs
// beside the writer, and ends cleanly (exit 0, output flushed) on SIGINT or SIGTERM.
import EventLog
import EventSourcing
import Foundation

enum TailCommand {
    static let spec = CommandSpec(
        name: "tail",
        summary: "Follow the log: print events as JSON lines as another process appends them.",
        usage: "eventlog tail --store DIR [--from POSITION] [--stream NAME | --category C] [--type T]",
        details: [
            """
            Flags:
              --store DIR       the store folder (opened read-only: works while another process writes)
              --from POSITION   first global position to print (default: the current end + 1, so only
                                events appended from now on; --from 1 prints the whole log first)
              --stream NAME     only events of this stream (POSITION is still a global position;
                                $all: the whole log, the default)
              --category C      only events of streams in category C (the name before the first '-');
                                not with --stream
              --type T          only events of type T
            """,
            """
            Output: one JSON object per event, in position order, exactly as 'eventlog read' prints
            it. The events up to the current end come first, then each event another process appends,
            as soon as that process has acknowledged it. Output is flushed after each batch, so a
            program reading the pipe sees every line promptly. Runs until interrupted: Ctrl-C
            (SIGINT) or SIGTERM ends it with exit status 0 once the lines read are printed.
            """,
        ],
        examples: [
            "eventlog tail --store ./events",
            "eventlog tail --store ./events --from 1 --category order --type OrderPaid",
        ],
        valueFlags: ["store", "from", "stream", "category", "type"],
        run: run)

    /// Thrown from inside a read to end it at the batch's end (the library's loop has no other exit).
    private struct StopReading: Error {}

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        // "$all" is the conventional name of the whole log, as in `read`.
        let stream = arguments.string("stream") == "$all" ? nil : try arguments.streamName()
        if let stream, let category = arguments.string("category") {
            throw CommandFailure.usage(
                "'--category \(category)' selects streams of the whole log, so it cannot be combined with "
                    + "'--stream \(stream)'; leave out one of them", command: arguments.command)
        }
        let from = try arguments.number("from")
        let filter = EventFilter(
            streams: stream.map { [$0] } ?? [],
            categories: arguments.string("category").map { [$0] } ?? [],
            eventTypes: arguments.string("type").map { [$0] } ?? [])

        var options = StoreOptions()
        options.readOnly = true
        options.createIfMissing = false
        let store = try StoreOpening.open(directory, options: options)
        // Catch up with the writer first: "the current end" is what it has acknowledged.
        let start = try from.map { max($0, 1) } ?? store.refresh().rawValue + 1
        // On standard error, so a script reading the lines is not disturbed.
        printError("eventlog: following \(directory) from position \(start); stop with Ctrl-C")

        // The signals end the following task; the handlers run on a dispatch queue,
        // not in the signal handler itself, so they may do anything.
        let following = Task { try await follow(store, from: start, filter: filter) }
        let signalSources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { following.cancel() }
            source.resume()
            return source
        }
        defer { for source in signalSources { source.cancel() } }
        do {
            try await following.value
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    /// Prints the events from `start` on, batch by batch, until the task is cancelled.
    ///
    /// Each batch is what the writer has acknowledged at one moment, read through the
    /// library's filtered read (which narrows by the indexes) and flushed as a whole;
    /// between batches ``waitForAppend(to:at:)`` waits for the writer's next publish.
    private static func follow(_ store: FileEventStore, from start: UInt64, filter: EventFilter) async throws {
        var output = OutputBuffer()
        // Lines read before an interruption or a failure still reach the reader.
        defer { try? output.flush() }
        var next = start
        while !Task.isCancelled {
            let end = try store.refresh().rawValue
            if end >= next {
                var printed: UInt64 = 0
                do {
                    try store.forEachEvent(from: GlobalPosition(next), filter: filter) { event in
                        // Stop at the batch's end, and soon after an interruption.
                        if event.position.rawValue > end || Task.isCancelled { throw StopReading() }
                        EventJSONLine.append(event, to: &output.bytes)
                        try output.flushIfFull()
                        printed = event.position.rawValue
                    }
                } catch is StopReading {}
                try output.flush()
                // Every matching event up to `end` (and any printed past it) is out.
                next = max(end, printed) + 1
                continue
            }
            try await waitForAppend(to: store, at: next)
        }
    }

    /// The longest wait before checking the writer's published position without a
    /// wake-up: the folder watcher can miss a publish (one made while it starts, or
    /// on a file system without inotify, e.g. NFS), and this bounds the delay then.
    static let fallbackRefreshInterval: Duration = .seconds(1)

    /// Waits until the event at `position` is acknowledged, the fallback interval
    /// passes, or the task is cancelled, whichever comes first. The subscription
    /// parks on the store's waiters, woken by the folder watcher; to find the event
    /// it reads at most one small batch.
    private static func waitForAppend(to store: FileEventStore, at position: UInt64) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var waiting = store.subscribeToAll(from: GlobalPosition(position)).makeAsyncIterator()
                _ = try await waiting.next()
            }
            group.addTask { try? await Task.sleep(for: fallbackRefreshInterval) }
            try await group.next()
            group.cancelAll()
        }
    }
}
