// Small events and stream names the rules build their scenarios from, and a
// subscription reader that checks the delivered positions as they arrive, so a
// gap or a duplicate fails at once instead of waiting for a time limit.
import EventSourcing
import Foundation

enum Sample {
    /// An event whose JSON payload records `number`, to tell events apart.
    static func event(_ type: String = "Happened", number: Int = 0) -> EventData {
        EventData(type: type, data: Data(#"{"n":\#(number)}"#.utf8))
    }

    /// `count` events of one type, numbered from `first`.
    static func events(_ count: Int, type: String = "Happened", first: Int = 1) -> [EventData] {
        (0..<count).map { event(type, number: first + $0) }
    }

    /// A stream name made at run time (literals are checked the same way).
    static func stream(_ name: String) -> StreamName { StreamName(unchecked: name) }
}

extension ConformanceCheck {
    /// Reads `subscription` until it has delivered exactly `positions`, in order,
    /// failing at the first event that is not the next one expected.
    func receive(
        _ subscription: EventSubscription, expecting positions: [GlobalPosition], _ what: String,
        onEvent: @escaping @Sendable (RecordedEvent) -> Void = { _ in }
    ) async throws -> [RecordedEvent] {
        guard !positions.isEmpty else { return [] }
        return try await withinTimeLimit("\(what) to deliver positions \(Self.summary(positions))") {
            var received: [RecordedEvent] = []
            for try await event in subscription {
                let expected = positions[received.count]
                guard event.position == expected else {
                    let kind = received.contains { $0.position == event.position } ? "a duplicate" : "an unexpected event"
                    throw failure(
                        expected: "\(what) to deliver position \(expected) next (after \(received.count) events)",
                        actual: "it delivered \(kind) at position \(event.position)")
                }
                received.append(event)
                onEvent(event)
                if received.count == positions.count { return received }
            }
            throw failure(
                expected: "\(what) to deliver \(positions.count) events",
                actual: "it ended after \(received.count)")
        }
    }

    static func summary(_ positions: [GlobalPosition]) -> String {
        guard let first = positions.first, let last = positions.last else { return "none" }
        return positions.count <= 6 ? positions.map(\.description).joined(separator: ",") : "\(first)...\(last) (\(positions.count))"
    }

    /// The identity of events for comparisons (timestamps aside).
    static func keys(_ events: [RecordedEvent]) -> [String] {
        events.map { "\($0.position)@\($0.stream):\($0.version)#\($0.id)" }
    }
}
