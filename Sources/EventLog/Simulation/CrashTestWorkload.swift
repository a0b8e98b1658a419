// The crash test's workload: what each simulated client appends and reads, all
// decided from a seed. Appenders mix every kind of expected version (right and
// wrong), multi-stream calls, idempotent retries, conflicting resends and invalid
// calls; the events vary in size so that 64 KiB segments roll.
import EventSourcing
import Foundation

/// One simulated client's stream of decisions.
struct CrashTestClient {
    var random: SimulationRandom
    let ledger: CrashTestLedger
    let phase: Int
    let tag: String
    /// Data sizes to draw from instead of the default mix.
    var dataBytes: ClosedRange<Int>?
    private var freshStreams = 0

    /// The streams every client shares (so expected versions go stale and batches mix).
    static let sharedStreams = (0..<5).map { StreamName(unchecked: "order-\($0)") }

    init(seed: UInt64, ledger: CrashTestLedger, phase: Int, tag: String) {
        random = SimulationRandom(seed: seed)
        self.ledger = ledger
        self.phase = phase
        self.tag = tag
    }

    // MARK: Events

    mutating func uuid() -> UUID {
        let b = random.bytes(16)
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }

    mutating func event() -> EventData {
        var dataBytes = defaultDataBytes()
        if let range = self.dataBytes { dataBytes = Int.random(in: range, using: &random) }
        let types = ["OrderCreated", "ItemAdded", "Shipped", "Noted", "Zahlung-Eingegangen-✓"]
        return EventData(
            id: uuid(), type: types.randomElement(using: &random)!, data: Data(random.bytes(dataBytes)),
            metadata: random.chance(1, in: 2) ? Data() : Data(random.bytes(Int.random(in: 1...40, using: &random))),
            isJSON: random.chance(1, in: 2),
            correlationID: random.chance(1, in: 3) ? uuid() : nil,
            causationID: random.chance(1, in: 5) ? uuid() : nil)
    }

    /// Mostly small events, a few large enough that 64 KiB segments roll every few calls.
    private mutating func defaultDataBytes() -> Int {
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<55: Int.random(in: 0...64, using: &random)
        case 55..<88: Int.random(in: 65...600, using: &random)
        case 88..<97: Int.random(in: 601...4_000, using: &random)
        default: Int.random(in: 8_000...24_000, using: &random)
        }
    }

    mutating func events() -> [EventData] {
        let count = random.chance(3, in: 4) ? 1 : Int.random(in: 2...4, using: &random)
        return (0..<count).map { _ in event() }
    }

    mutating func sharedStream() -> StreamName { Self.sharedStreams.randomElement(using: &random)! }

    mutating func freshStream() -> StreamName {
        freshStreams += 1
        return StreamName(unchecked: "fresh-\(tag)-\(freshStreams)")
    }

    // MARK: Calls

    /// The next call and what it must come to.
    mutating func nextCall() -> (parts: [StreamAppend], expectation: CallExpectation) {
        while true {
            if let call = candidateCall() { return call }
        }
    }

    /// A call of a random kind, or nil when that kind has nothing to work on yet.
    private mutating func candidateCall() -> (parts: [StreamAppend], expectation: CallExpectation)? {
        let roll = Int.random(in: 0..<100, using: &random)
        switch roll {
        case 0..<28:
            return ([StreamAppend(stream: sharedStream(), expectedVersion: .any, events: events())], .appended)
        case 28..<46:
            let stream = sharedStream()
            let known = ledger.knownVersion(of: stream)
            return ([StreamAppend(stream: stream, expectedVersion: .exact(StreamVersion(known)), events: events())], .appendedOrWrongVersion)
        case 46..<53:
            return ([StreamAppend(stream: freshStream(), expectedVersion: .noStream, events: events())], .appended)
        case 53..<57:
            let stream = sharedStream()
            let exists = ledger.knownVersion(of: stream) > 0
            return ([StreamAppend(stream: stream, expectedVersion: .streamExists, events: events())], exists ? .appended : .appendedOrWrongVersion)
        case 57..<60:
            return ([StreamAppend(stream: freshStream(), expectedVersion: .streamExists, events: events())], .wrongVersion)
        case 60..<64:
            let stream = sharedStream()
            let impossible = StreamVersion(ledger.knownVersion(of: stream) + 1_000_000)
            return ([StreamAppend(stream: stream, expectedVersion: .exact(impossible), events: events())], .wrongVersion)
        case 64..<67:
            let stream = sharedStream()
            guard ledger.knownVersion(of: stream) > 0 else { return nil }
            return ([StreamAppend(stream: stream, expectedVersion: .noStream, events: events())], .wrongVersion)
        case 67..<80:
            let streams = Array(Self.sharedStreams.shuffled(using: &random).prefix(Int.random(in: 2...3, using: &random)))
            var allAny = true
            let parts = streams.map { stream -> StreamAppend in
                if random.chance(1, in: 2) { return StreamAppend(stream: stream, expectedVersion: .any, events: events()) }
                allAny = false
                return StreamAppend(stream: stream, expectedVersion: .exact(StreamVersion(ledger.knownVersion(of: stream))), events: events())
            }
            return (parts, allAny ? .appended : .appendedOrWrongVersion)
        case 80..<89:
            // An idempotent retry of an acknowledged call: same ids, same expected versions.
            let acknowledged = ledger.calls.filter { $0.outcome.isAcknowledged && !$0.isResend }
            guard let original = acknowledged.randomElement(using: &random) else { return nil }
            return (original.parts, original.namesVersions ? .retry(of: original.number) : .resend(of: original.number))
        case 89..<93:
            // Some of an acknowledged call's ids with new ones: neither a new call nor a retry.
            let candidates = ledger.calls.filter {
                $0.outcome.isAcknowledged && $0.namesVersions && $0.parts.contains { $0.events.count >= 2 } && !$0.isResend
            }
            guard let original = candidates.randomElement(using: &random) else { return nil }
            var parts = original.parts
            let changed = parts.firstIndex { $0.events.count >= 2 }!
            for index in 1..<parts[changed].events.count { parts[changed].events[index] = event() }
            return (parts, .conflict(with: original.number))
        case 93..<96:
            // The same id twice in one call: refused before it reaches the writer.
            let first = event()
            var second = event()
            second.id = first.id
            return ([StreamAppend(stream: sharedStream(), expectedVersion: .any, events: [first, second])], .invalid)
        default:
            // A resend of a call that failed or was refused: its fate depends on the log.
            // Finished ones only: resending a call still in flight races with it, and
            // a `.any` original may then meet its own resend as a partial retry.
            let unfinished = ledger.calls.filter {
                switch $0.outcome {
                case .acknowledged, .inFlight: return false
                case .refused, .uncertain: break
                }
                if case .invalid = $0.expectation { return false }
                return !$0.isResend
            }
            guard let original = unfinished.randomElement(using: &random) else { return nil }
            return (original.parts, .resend(of: original.number))
        }
    }
}

extension LedgerCall {
    /// Whether every part names the version it expects (so a resend can only be a retry).
    var namesVersions: Bool {
        parts.allSatisfy {
            switch $0.expectedVersion {
            case .exact, .noStream: true
            case .any, .streamExists: false
            }
        }
    }

    /// Whether this call resent another's events (its own resends would only repeat them).
    var isResend: Bool {
        switch expectation {
        case .retry, .resend, .conflict: true
        default: false
        }
    }
}

/// The tasks of one workload round.
enum CrashTestRound {
    /// Makes `calls` calls one after another, stopping once the machine crashed.
    static func append(
        _ store: FileEventStore, client: CrashTestClient, calls: Int, fileSystem: SimulatedFileSystem, crashesBefore: Int
    ) async {
        var client = client
        for _ in 0..<calls {
            if fileSystem.crashCount > crashesBefore { return }
            let (parts, expectation) = client.nextCall()
            await append(parts, expectation: expectation, to: store, client: client, fileSystem: fileSystem, crashesBefore: crashesBefore)
        }
    }

    /// Makes one call and records its outcome.
    /// `disturbed` says whether a failure is excused (default: the machine crashed since `crashesBefore`).
    @discardableResult
    static func append(
        _ parts: [StreamAppend], expectation: CallExpectation, to store: FileEventStore, client: CrashTestClient,
        fileSystem: SimulatedFileSystem, crashesBefore: Int, disturbed: (() -> Bool)? = nil
    ) async -> Bool {
        let number = client.ledger.begin(parts, expectation: expectation, phase: client.phase)
        let result: Result<[AppendResult], any Error>
        do {
            if parts.count == 1 {
                result = .success([try await store.append(parts[0].events, to: parts[0].stream, expectedVersion: parts[0].expectedVersion)])
            } else {
                result = .success(try await store.append(parts))
            }
        } catch {
            result = .failure(error)
        }
        client.ledger.finish(number, result, crashed: disturbed?() ?? (fileSystem.crashCount > crashesBefore))
        if case .success = result { return true }
        return false
    }

    /// Reads while the appenders run: what is visible is dense, made of calls the
    /// workload made and did not see refused, and reads never fail before a crash.
    static func read(
        _ store: FileEventStore, seed: UInt64, reads: Int, ledger: CrashTestLedger, fileSystem: SimulatedFileSystem,
        crashesBefore: Int
    ) async {
        var random = SimulationRandom(seed: seed)
        for _ in 0..<reads {
            await Task.yield()
            if fileSystem.crashCount > crashesBefore { return }
            do {
                let last = store.lastPosition.rawValue
                let from = UInt64.random(in: 1...max(last, 1), using: &random)
                let events = try store.readAll(from: GlobalPosition(from), maxCount: 40)
                for (offset, event) in events.enumerated() where event.position.rawValue != from + UInt64(offset) {
                    ledger.report("a concurrent readAll from \(from) returned position \(event.position) at index \(offset)")
                    break
                }
                if last >= from && events.first?.position.rawValue != from {
                    ledger.report("a concurrent readAll from \(from) did not return that visible position (last \(last))")
                }
                let calls = ledger.calls
                for event in events {
                    let writers = calls.filter { $0.idKey.contains(event.id) }
                    if writers.isEmpty {
                        ledger.report("a concurrent read saw id \(event.id) that no call wrote")
                        break
                    }
                    let refused = writers.allSatisfy {
                        if case .refused = $0.outcome { return true }
                        return false
                    }
                    if refused {
                        ledger.report("a concurrent read saw an event of \(writers[0].summary()), which was refused")
                        break
                    }
                }
                let stream = CrashTestClient.sharedStreams.randomElement(using: &random)!
                let streamEvents = try store.readStream(stream)
                if streamEvents.map(\.version.rawValue) != Array(0..<UInt64(streamEvents.count)).map({ $0 + 1 }) {
                    ledger.report("a concurrent readStream(\(stream)) returned versions \(streamEvents.map(\.version.rawValue))")
                }
            } catch {
                if fileSystem.crashCount == crashesBefore {
                    ledger.report("a concurrent read failed although nothing crashed: \(error)")
                }
                return
            }
        }
    }
}
