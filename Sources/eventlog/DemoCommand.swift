// `eventlog demo`: a short story of an order's life that shows what the store
// and its domain layer promise (commands through a repository, conflicts,
// idempotent retries, upcasting, a saga, a projection, snapshots, group
// commit) on a real store the user can then explore with the other commands.
import EventLog
import EventSourcing
import Foundation

enum DemoCommand {
    static let spec = CommandSpec(
        name: "demo",
        summary: "Walk through an order's life on a new store, from command to read model.",
        usage: "eventlog demo [--store DIR] [--segment-size BYTES]",
        details: [
            """
            Flags:
              --store DIR           where to create the demo store (default: a new temporary folder);
                                    it must be new or empty
              --segment-size BYTES  segment size of the new store (default 67108864, at least 65536)
            """,
            """
            The story uses the order example (Sources/OrderExample): an Order aggregate handled
            through a Repository, an upcaster, a shipping saga and an order-summary projection.
            The store is kept afterwards, so you can read and verify it.
            """,
        ],
        examples: ["eventlog demo", "eventlog demo --store ./demo-events"],
        valueFlags: ["store", "segment-size"],
        run: run)

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = arguments.string("store") ?? temporaryFolder()
        let options = try arguments.storeOptions()
        let clock = ContinuousClock()
        let started = clock.now
        let store = try StoreOpening.open(directory, options: options)
        do {
            guard store.lastPosition.rawValue == 0 else {
                throw CommandFailure.invalidInput(
                    "the demo needs a new store, but \(directory) already holds \(store.lastPosition.rawValue) events; "
                        + "pass a new folder with --store, or leave --store out to use a fresh temporary folder")
            }
            printOutput("EventLog demo: an order's life, from command to read model, in a new store at \(directory)\n")
            let loadTimes = try await DemoStory(store: store).tell()
            printFigures(store.statistics, loadTimes: loadTimes, elapsed: clock.now - started)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        printOutput("""

            Try next:
              eventlog read --store \(directory) --stream \(DemoStory.order)
              eventlog read --store \(directory)
              eventlog verify --store \(directory)
            """)
    }

    private static func printFigures(_ statistics: WriterStatistics, loadTimes: DemoStory.LoadTimes, elapsed: Duration) {
        let speedup = DemoStory.milliseconds(of: loadTimes.fullReplay) / max(DemoStory.milliseconds(of: loadTimes.fromSnapshot), 0.001)
        printOutput("""

            Figures: \(DemoStory.grouped(statistics.eventsWritten)) events written by \(statistics.appendsAcknowledged) \
            acknowledged appends (the idempotent retry included, the refused one not)
            using \(statistics.syncs) fsyncs. Loading \(DemoStory.wholesaleOrder) (\(DemoStory.grouped(loadTimes.eventCount)) \
            events): \(DemoStory.milliseconds(loadTimes.fromSnapshot)) from its snapshot, \
            \(DemoStory.milliseconds(loadTimes.fullReplay)) replaying
            every event (\(String(format: "%.0f", speedup))x faster). \(DemoStory.milliseconds(elapsed)) in all.
            """)
    }

    private static func temporaryFolder() -> String {
        let base = NSTemporaryDirectory().hasSuffix("/") ? NSTemporaryDirectory() : NSTemporaryDirectory() + "/"
        return base + "eventlog-demo-" + UUID().uuidString.prefix(8)
    }
}
