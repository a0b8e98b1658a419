// `eventlog demo`: a one-screen story of an order's life that shows what the
// store promises (expected versions, conflicts, idempotent retries, group
// commit) on a real store the user can then explore with the other commands.
import EventLog
import EventSourcing
import Foundation

enum DemoCommand {
    static let spec = CommandSpec(
        name: "demo",
        summary: "Walk through an order's life on a new store: appends, a conflict, a retry, a read.",
        usage: "eventlog demo [--store DIR] [--segment-size BYTES]",
        details: [
            """
            Flags:
              --store DIR           where to create the demo store (default: a new temporary folder);
                                    it must be new or empty
              --segment-size BYTES  segment size of the new store (default 67108864, at least 65536)
            """,
            "The store is kept afterwards, so you can read and verify it.",
        ],
        examples: ["eventlog demo", "eventlog demo --store ./demo-events"],
        valueFlags: ["store", "segment-size"],
        run: run)

    /// Orders created at once in the group-commit step.
    static let concurrentOrders = 20

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = arguments.string("store") ?? temporaryFolder()
        let options = try arguments.storeOptions()
        let started = ContinuousClock.now
        let store = try FileEventStore.open(directory: directory, options: options)
        do {
            guard store.lastPosition.rawValue == 0 else {
                throw CommandFailure.invalidInput(
                    "the demo needs a new store, but \(directory) already holds \(store.lastPosition.rawValue) events; "
                        + "pass a new folder with --store, or leave --store out to use a fresh temporary folder")
            }
            printOutput("EventLog demo: the life of an order, in a new store at \(directory)\n")
            try await tellStory(store)
            printFigures(store.statistics, elapsed: ContinuousClock.now - started)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        printOutput("""

            Try next:
              eventlog read --store \(directory) --stream order-1001
              eventlog read --store \(directory)
              eventlog verify --store \(directory)
            """)
    }

    private static func tellStory(_ store: FileEventStore) async throws {
        let order: StreamName = "order-1001"

        printOutput("1. Order 1001 is created; the stream must not exist yet (expected version: no-stream).")
        let created = [event("OrderCreated", #"{"customer":"ada@example.com","currency":"EUR"}"#)]
        let first = try await store.append(created, to: order, expectedVersion: .noStream)
        printAppended(created, result: first, stream: order)

        printOutput("2. Two items are added in one atomic append (expected version: \(first.nextExpectedVersion)).")
        let items = [
            event("ItemAdded", #"{"sku":"TEA-01","quantity":2,"priceCents":450}"#),
            event("ItemAdded", #"{"sku":"MUG-07","quantity":1,"priceCents":1200}"#),
        ]
        let second = try await store.append(items, to: order, expectedVersion: .exact(first.nextExpectedVersion))
        printAppended(items, result: second, stream: order)

        printOutput("3. A second clerk, who loaded the order at version \(first.nextExpectedVersion), tries to cancel it.")
        do {
            try await store.append(
                [event("OrderCancelled", #"{"reason":"customer called"}"#)], to: order,
                expectedVersion: .exact(first.nextExpectedVersion))
            throw CommandFailure(exitCode: .failure, message: "the demo's conflicting append was accepted; this is a bug in EventLog")
        } catch EventStoreError.wrongExpectedVersion(_, let expected, let actual) {
            printOutput("""
                     Conflict: wrong expected version (expected \(expected), but the stream is at version \(actual)).
                     Nothing was written; the clerk reloads the order, sees the new items, and decides again.
                """)
        }

        printOutput("""
            4. The payment is recorded (expected version: \(second.nextExpectedVersion)), but the reply is lost,
               so the client retries with the same event id at the same expected version.
            """)
        let paid = [event("OrderPaid", #"{"amountCents":2100,"method":"card"}"#)]
        let payment = try await store.append(paid, to: order, expectedVersion: .exact(second.nextExpectedVersion))
        printAppended(paid, result: payment, stream: order, label: "first try  ")
        let retry = try await store.append(paid, to: order, expectedVersion: .exact(second.nextExpectedVersion))
        printAppended(paid, result: retry, stream: order, label: "retry      ")
        printOutput(retry == payment
            ? "     The retry returned the original result: the payment is recorded once."
            : "     The retry returned a different result (\(retry)); this is a bug in EventLog.")

        try await appendConcurrently(store)

        printOutput("6. Reading \(order) back:")
        for recorded in try store.readStream(order) {
            let padding = String(repeating: " ", count: max(1, 15 - recorded.type.count))
            printOutput("     v\(recorded.version)  \(recorded.type)\(padding)\(String(decoding: recorded.data, as: UTF8.self))")
        }
    }

    /// Many small appends at once: the writer groups them, so they share fsyncs.
    private static func appendConcurrently(_ store: FileEventStore) async throws {
        printOutput("5. \(concurrentOrders) other customers order at the same moment: \(concurrentOrders) appends at once.")
        let positions = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for number in 1...concurrentOrders {
                group.addTask {
                    let stream = try StreamName("order-\(2000 + number)")
                    let created = event("OrderCreated", #"{"customer":"customer-\#(number)@example.com"}"#)
                    return try await store.append([created], to: stream, expectedVersion: .noStream).firstPosition.rawValue
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        printOutput("""
                 order-2001 ... order-\(2000 + concurrentOrders) are at version 1 each, at positions \
            \(positions.min() ?? 0) to \(positions.max() ?? 0) in the order the writer took them.
            """)
    }

    private static func printFigures(_ statistics: WriterStatistics, elapsed: Duration) {
        let (seconds, attoseconds) = elapsed.components
        let milliseconds = Double(seconds) * 1_000 + Double(attoseconds) / 1e15
        printOutput("""

            Figures: \(statistics.eventsWritten) events written by \(statistics.appendsAcknowledged) acknowledged appends \
            (one of them the retry), using \(statistics.syncs) fsyncs:
            the writer groups concurrent appends into one write and one fsync. \
            \(String(format: "%.1f", milliseconds)) ms in all.
            """)
    }

    private static func printAppended(
        _ events: [EventData], result: AppendResult, stream: StreamName, label: String = ""
    ) {
        let firstVersion = result.firstVersion(eventCount: events.count).rawValue
        for (offset, event) in events.enumerated() {
            let version = firstVersion + UInt64(offset)
            let position = result.firstPosition.rawValue + UInt64(offset)
            printOutput("     \(label)\(stream)  v\(version)  @\(position)  \(event.type)")
        }
    }

    private static func event(_ type: String, _ json: String) -> EventData {
        EventData(type: type, data: Data(json.utf8))
    }

    private static func temporaryFolder() -> String {
        let base = NSTemporaryDirectory().hasSuffix("/") ? NSTemporaryDirectory() : NSTemporaryDirectory() + "/"
        return base + "eventlog-demo-" + UUID().uuidString.prefix(8)
    }
}
