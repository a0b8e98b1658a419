// Rules of catch-up subscriptions: history then live, in position order, no
// gap and no duplicate even while many writers append; a start at the end sees
// only what comes later; cancellation ends iteration; filters and deletions
// decide what is delivered.
import EventSourcing

enum SubscriptionRules {
    static let all: [ConformanceRule] = [
        historyThenLiveUnderConcurrentAppends, streamSubscription, fromTheCurrentEnd, cancellationEnds, filters, hiddenEventsSkipped,
    ]

    static let historyThenLiveUnderConcurrentAppends = ConformanceRule(
        "subscriptions deliver history then live events with no gap or duplicate while 8 writers append"
    ) { check in
        let store = try await check.freshStore()
        let historyCount: UInt64 = 20
        for number in 1...historyCount {
            _ = try await store.append(Sample.events(1, first: Int(number)), to: Sample.stream("history-\(number % 3)"), expectedVersion: .any)
        }
        let appenderCount = 8
        let callsPerAppender = 25
        let callSizes = (0..<callsPerAppender).map { $0 % 3 + 1 }
        let total = historyCount + UInt64(appenderCount * callSizes.reduce(0, +))
        let expected = { @Sendable (from: UInt64) in (from...total).map { GlobalPosition($0) } }

        let delivered = try await withThrowingTaskGroup(of: (from: UInt64, events: [RecordedEvent])?.self) { group in
            // Two subscribers catch up with the history before any writer starts, so
            // they follow the writers live; three more start as the writers start,
            // racing them from the history, from its end and from the middle of what
            // is yet to be written.
            let (caughtUp, signalCaughtUp) = AsyncStream<Void>.makeStream()
            for from: UInt64 in [1, 11] {
                group.addTask {
                    defer { signalCaughtUp.yield() }
                    let events = try await check.receive(
                        store.subscribeToAll(from: GlobalPosition(from), filter: .all), expecting: expected(from),
                        "a subscription from position \(from)"
                    ) { event in if event.position.rawValue == historyCount { signalCaughtUp.yield() } }
                    return (from, events)
                }
            }
            var signals = caughtUp.makeAsyncIterator()
            for _ in 0..<2 { _ = await signals.next() }
            for from: UInt64 in [1, historyCount + 1, total / 2] {
                group.addTask {
                    let events = try await check.receive(
                        store.subscribeToAll(from: GlobalPosition(from), filter: .all), expecting: expected(from),
                        "a subscription from position \(from) started with the writers")
                    return (from, events)
                }
            }
            for writer in 0..<appenderCount {
                group.addTask {
                    let stream = Sample.stream("writer-\(writer)")
                    var version: UInt64 = 0
                    for (call, size) in callSizes.enumerated() {
                        let events = Sample.events(size, first: writer * 1_000 + call * 10)
                        let result = try await store.append(events, to: stream, expectedVersion: .exact(StreamVersion(version)))
                        version = result.nextExpectedVersion.rawValue
                        // Visible to this writer as soon as its append returned.
                        let readBack = try await store.readAll(from: result.firstPosition, direction: .forward, maxCount: size)
                        try check.expectEqual(readBack.map(\.id), events.map(\.id), "writer \(writer)'s call \(call) read back right after it returned")
                    }
                    return nil
                }
            }
            var delivered: [(from: UInt64, events: [RecordedEvent])] = []
            for try await result in group { if let result { delivered.append(result) } }
            return delivered
        }
        let log = try await store.readWholeLog()
        try check.expectEqual(log.count, Int(total), "the number of events in the log")
        for (from, events) in delivered {
            try check.expectEqual(
                ConformanceCheck.keys(events), ConformanceCheck.keys(Array(log[Int(from - 1)...])),
                "the events delivered from position \(from), compared with readAll")
        }
    }

    static let streamSubscription = ConformanceRule("a stream subscription delivers the stream's events from a version, then live ones") { check in
        let store = try await check.freshStore()
        for number in 1...5 {
            _ = try await store.append([Sample.event(number: number)], to: "s-1", expectedVersion: .any)
            _ = try await store.append([Sample.event(number: 100 + number)], to: "s-2", expectedVersion: .any)
        }
        // s-1 holds positions 1, 3, 5, 7, 9; from version 3 that is 5, 7, 9, then the
        // live appends below land s-1 at 12, 13, 15 and 16.
        let (caughtUp, signalCaughtUp) = AsyncStream<Void>.makeStream()
        let receiving = Task {
            defer { signalCaughtUp.finish() }  // A failure must not leave the wait below hanging.
            return try await check.receive(store.subscribe(to: "s-1", from: 3), expecting: [5, 7, 9, 12, 13, 15, 16], "a subscription to s-1 from version 3") {
                if $0.position == 9 { signalCaughtUp.yield() }
            }
        }
        try await check.withinTimeLimit("the stream subscription to deliver its history") {
            for await _ in caughtUp { break }
        }
        _ = try await store.append(Sample.events(1, first: 200), to: "s-2", expectedVersion: .any)
        _ = try await store.append(Sample.events(1, first: 6), to: "s-1", expectedVersion: .exact(5))
        _ = try await store.append(Sample.events(1, first: 7), to: "s-1", expectedVersion: .exact(6))
        _ = try await store.append(Sample.events(1, first: 201), to: "s-2", expectedVersion: .any)
        _ = try await store.append(Sample.events(2, first: 8), to: "s-1", expectedVersion: .exact(7))
        let events = try await receiving.value
        try check.expectEqual(events.map(\.version.rawValue), Array(3...9), "the versions delivered")
        try check.expectEqual(events.map(\.stream), Array(repeating: "s-1", count: 7), "the streams delivered")
    }

    static let fromTheCurrentEnd = ConformanceRule("a subscription from the current end delivers only live events") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(5), to: "e-1", expectedVersion: .noStream)
        let next = GlobalPosition(try await store.lastPosition().rawValue + 1)
        let nextVersion = StreamVersion(try await store.streamVersion("e-1").rawValue + 1)
        let all = Task { try await check.receive(store.subscribeToAll(from: next, filter: .all), expecting: [6, 7, 8], "a subscription from position 6") }
        let stream = Task { try await check.receive(store.subscribe(to: "e-1", from: nextVersion), expecting: [6, 8], "a subscription to e-1 from version 6") }
        let live = Sample.events(3, first: 10)
        _ = try await store.append([live[0]], to: "e-1", expectedVersion: .exact(5))
        _ = try await store.append([live[1]], to: "e-2", expectedVersion: .any)
        _ = try await store.append([live[2]], to: "e-1", expectedVersion: .exact(6))
        try check.expectEqual(try await all.value.map(\.id), live.map(\.id), "the ids delivered from the end of the log")
        try check.expectEqual(try await stream.value.map(\.id), [live[0].id, live[2].id], "the ids delivered from the end of the stream")
    }

    static let cancellationEnds = ConformanceRule("cancelling the subscribing task ends the subscription") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(3), to: "c-1", expectedVersion: .noStream)
        // A subscriber waiting for live events.
        let (caughtUp, signalCaughtUp) = AsyncStream<Void>.makeStream()
        let waiting = Task {
            defer { signalCaughtUp.finish() }
            var count = 0
            for try await _ in store.subscribeToAll(from: .start, filter: .all) {
                count += 1
                if count == 3 { signalCaughtUp.yield() }
            }
            return count
        }
        try await check.withinTimeLimit("the subscription to deliver its history") {
            for await _ in caughtUp { break }
        }
        waiting.cancel()
        let count = try await check.withinTimeLimit("a waiting subscription to end once its task is cancelled") { try await waiting.value }
        try check.expectEqual(count, 3, "the events a cancelled subscription delivered")
        // A subscriber whose task is cancelled before its first pull.
        let (gate, _) = AsyncStream<Void>.makeStream()
        let cancelledEarly = Task {
            for await _ in gate {}  // Ends once the task is cancelled.
            var count = 0
            for try await _ in store.subscribe(to: "c-1", from: 1) { count += 1 }
            return count
        }
        cancelledEarly.cancel()
        let early = try await check.withinTimeLimit("a subscription pulled by a cancelled task to end") { try await cancelledEarly.value }
        try check.expect(early <= 3, "a subscription pulled by a cancelled task to end without live events", actual: "it delivered \(early)")
    }

    static let filters = ConformanceRule("filters deliver only events of the given streams, categories and event types") { check in
        let store = try await check.freshStore()
        let plan: [(String, String)] = [
            ("order-1", "Created"), ("order-2", "Created"), ("cart-1", "Created"), ("order-1", "Paid"), ("cart-1", "Paid"),
            ("order-2", "Paid"), ("order-1", "Shipped"), ("cart-2", "Created"), ("other", "Paid"),
        ]
        let filters: [EventFilter] = [
            EventFilter(streams: ["order-1"]),
            EventFilter(categories: ["cart"]),
            EventFilter(eventTypes: ["Paid"]),
            EventFilter(categories: ["order"], eventTypes: ["Paid", "Shipped"]),
            EventFilter(streams: ["order-2", "cart-1"], eventTypes: ["Created"]),
            EventFilter(streams: ["order-1", "cart-2"], categories: ["order"]),
        ]
        // The plan runs twice: once as history, once live.
        let steps = plan + plan
        func matches(_ filter: EventFilter, _ step: (String, String)) -> Bool {
            let stream = Sample.stream(step.0)
            return (filter.streams.isEmpty || filter.streams.contains(stream))
                && (filter.categories.isEmpty || filter.categories.contains(stream.category))
                && (filter.eventTypes.isEmpty || filter.eventTypes.contains(step.1))
        }
        for (index, step) in plan.enumerated() {
            _ = try await store.append([Sample.event(step.1, number: index)], to: Sample.stream(step.0), expectedVersion: .any)
        }
        let receivers = filters.map { filter in
            let expected = steps.indices.filter { matches(filter, steps[$0]) }.map { GlobalPosition(UInt64($0 + 1)) }
            return Task {
                try await check.receive(store.subscribeToAll(from: .start, filter: filter), expecting: expected, "a subscription filtered by \(filter)")
            }
        }
        for (index, step) in plan.enumerated() {
            _ = try await store.append([Sample.event(step.1, number: 100 + index)], to: Sample.stream(step.0), expectedVersion: .any)
        }
        for receiver in receivers { _ = try await receiver.value }
    }

    static let hiddenEventsSkipped = ConformanceRule("subscriptions skip truncated and deleted events") { check in
        let store = try await check.freshStore()
        for number in 1...3 {
            _ = try await store.append([Sample.event(number: number)], to: "h-1", expectedVersion: .any)
            _ = try await store.append([Sample.event(number: 10 + number)], to: "h-2", expectedVersion: .any)
            _ = try await store.append([Sample.event(number: 20 + number)], to: "h-3", expectedVersion: .any)
        }
        // h-1: positions 1, 4, 7; h-2: 2, 5, 8; h-3: 3, 6, 9.
        try await store.truncateStream("h-1", before: 3)
        try await store.deleteStream("h-2", expectedVersion: .exact(3), hard: false)
        try await store.deleteStream("h-3", expectedVersion: .any, hard: true)
        let all = Task { try await check.receive(store.subscribeToAll(from: .start, filter: .all), expecting: [7, 10, 11], "a subscription to the log") }
        let truncated = Task { try await check.receive(store.subscribe(to: "h-1", from: 1), expecting: [7, 11], "a subscription to the truncated h-1") }
        let softDeleted = Task { try await check.receive(store.subscribe(to: "h-2", from: 1), expecting: [10], "a subscription to the soft-deleted h-2") }
        _ = try await store.append([Sample.event(number: 14)], to: "h-2", expectedVersion: .exact(3))
        _ = try await store.append([Sample.event(number: 4)], to: "h-1", expectedVersion: .exact(3))
        _ = try await all.value
        _ = try await truncated.value
        let afterDelete = try await softDeleted.value
        try check.expectEqual(afterDelete.map(\.version), [4], "the versions a subscription sees of a stream appended to after a soft delete")
    }
}
