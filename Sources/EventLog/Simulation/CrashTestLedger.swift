// The crash test's record of every append call it made and what the store
// answered, and the check of a reopened store against it: the model that says
// what a crash may and may not take away.
import EventSourcing
import Foundation
import Synchronization

/// What the workload knows a call must come to, whatever the interleaving.
enum CallExpectation: Sendable, CustomStringConvertible {
    /// `.any` (or `.streamExists` on a stream known to exist): must be written.
    case appended
    /// An expected version that may be stale: written, or refused as a wrong version.
    case appendedOrWrongVersion
    /// An expected version that cannot hold: refused as a wrong version.
    case wrongVersion
    /// The same events and expected versions as an acknowledged call that named its
    /// versions: must return that call's results and write nothing.
    case retry(of: Int)
    /// A resend whose fate depends on what happened since (`.any` parts, or an
    /// original that was never acknowledged): anything, but a success must be in the log.
    case resend(of: Int)
    /// Some of an acknowledged call's event ids with new ones: refused as a conflict.
    case conflict(with: Int)
    /// Broken before it reaches the writer (duplicate ids in one call): refused.
    case invalid

    var description: String {
        switch self {
        case .appended: "must be written"
        case .appendedOrWrongVersion: "written or wrong version"
        case .wrongVersion: "must be refused as a wrong version"
        case .retry(let call): "retry of call #\(call): must return its results"
        case .resend(let call): "resend of call #\(call)"
        case .conflict(let call): "conflicting resend of call #\(call): must be refused"
        case .invalid: "invalid: must be refused"
        }
    }
}

/// How an append call ended.
enum CallOutcome: Sendable {
    case inFlight
    case acknowledged([AppendResult])
    /// Refused before anything was written (wrong version, conflict, validation, closed).
    case refused(EventStoreError)
    /// Failed in a way that leaves open whether it was written (the writer failed, a crash).
    case uncertain(String)

    var isAcknowledged: Bool {
        if case .acknowledged = self { return true }
        return false
    }
}

/// One append call as the workload made it.
struct LedgerCall: Sendable {
    let number: Int
    let parts: [StreamAppend]
    let expectation: CallExpectation
    /// The workload phase (0 before the first crash, 1 after it, ...).
    let phase: Int
    var outcome: CallOutcome = .inFlight

    var events: [(stream: StreamName, event: EventData)] {
        parts.flatMap { part in part.events.map { (part.stream, $0) } }
    }

    /// Identifies calls that write the same events (an original and its resends).
    var idKey: [UUID] { parts.flatMap { $0.events.map(\.id) } }

    func summary() -> String {
        let shape = parts.map { "\($0.stream)@\($0.expectedVersion)×\($0.events.count)" }.joined(separator: " + ")
        let outcome: String =
            switch self.outcome {
            case .inFlight: "in flight"
            case .acknowledged(let results):
                "acknowledged " + results.map { "v\($0.nextExpectedVersion) p\($0.firstPosition)-\($0.lastPosition)" }.joined(separator: ", ")
            case .refused(let error): "refused: \(Self.short(error))"
            case .uncertain(let reason): "uncertain: \(reason.prefix(100))"
            }
        return "call #\(number) [phase \(phase)] \(shape) (\(expectation)) -> \(outcome)"
    }

    static func short(_ error: EventStoreError) -> String {
        switch error {
        case .wrongExpectedVersion(_, let expected, let actual): "wrong expected version (expected \(expected), actual \(actual))"
        case .idempotencyConflict: "idempotency conflict"
        case .writerFailed(let reason): "writer failed: \(reason)"
        default: String(describing: error).prefix(120).description
        }
    }
}

/// Every call of one crash-test iteration, shared by the concurrent appenders.
final class CrashTestLedger: Sendable {
    private struct State {
        var calls: [LedgerCall] = []
        /// The highest version an acknowledgement reported per stream (a lower bound).
        var knownVersions: [StreamName: UInt64] = [:]
        var problems: [String] = []
        /// Position -> event id of every event a check saw: positions never change.
        var observed: [UInt64: UUID] = [:]
        var tags = 0
    }

    private let state = Mutex(State())

    /// Registers a call about to be made; returns its number.
    func begin(_ parts: [StreamAppend], expectation: CallExpectation, phase: Int) -> Int {
        state.withLock { state in
            let number = state.calls.count + 1
            state.calls.append(LedgerCall(number: number, parts: parts, expectation: expectation, phase: phase))
            return number
        }
    }

    /// Records how call `number` ended and checks the answer against what it must be.
    /// `crashed` says whether the machine had crashed (or a fault was injected) by the time it ended.
    func finish(_ number: Int, _ result: Result<[AppendResult], any Error>, crashed: Bool) {
        state.withLock { state in
            var call = state.calls[number - 1]
            switch result {
            case .success(let results):
                call.outcome = .acknowledged(results)
                Self.checkAcknowledgement(call, results, &state)
                for (part, result) in zip(call.parts, results) {
                    state.knownVersions[part.stream] = max(state.knownVersions[part.stream] ?? 0, result.nextExpectedVersion.rawValue)
                }
            case .failure(let error as EventStoreError) where Self.isRefusal(error):
                call.outcome = .refused(error)
                // A dead process answers nobody: a refusal decided while its I/O
                // failed is an I/O-error case, which the fault tests check.
                if !crashed { Self.checkRefusal(call, error, &state) }
            case .failure(let error):
                call.outcome = .uncertain(String(describing: error))
                if !crashed {
                    state.problems.append("\(call.summary()): failed although nothing crashed and no fault was injected")
                }
            }
            state.calls[number - 1] = call
        }
    }

    /// Errors that mean nothing of the call was written.
    static func isRefusal(_ error: EventStoreError) -> Bool {
        switch error {
        case .wrongExpectedVersion, .idempotencyConflict, .invalidStreamName, .invalidEventType, .limitExceeded,
            .emptyAppend, .duplicateEventID, .closed, .readOnly, .invalidArgument, .streamDeleted:
            true
        default: false
        }
    }

    private static func checkAcknowledgement(_ call: LedgerCall, _ results: [AppendResult], _ state: inout State) {
        guard results.count == call.parts.count else {
            state.problems.append("\(call.summary()): \(results.count) results for \(call.parts.count) parts")
            return
        }
        for (part, result) in zip(call.parts, results) {
            let count = UInt64(part.events.count)
            if result.lastPosition.rawValue + 1 - result.firstPosition.rawValue != count || result.nextExpectedVersion.rawValue < count {
                state.problems.append("\(call.summary()): result \(result) does not fit \(count) events")
            }
            let firstVersion = result.nextExpectedVersion.rawValue + 1 - count
            if !Self.fits(part.expectedVersion, firstVersion: firstVersion) {
                state.problems.append("\(call.summary()): acknowledged at version \(firstVersion) against its expected version")
            }
        }
        switch call.expectation {
        case .wrongVersion, .conflict, .invalid:
            state.problems.append("\(call.summary()): acknowledged, but it had to be refused")
        case .retry(let original):
            guard case .acknowledged(let originalResults) = state.calls[original - 1].outcome, originalResults == results else {
                state.problems.append("\(call.summary()): a retry must return the original results (\(state.calls[original - 1].summary()))")
                return
            }
        default: break
        }
    }

    private static func checkRefusal(_ call: LedgerCall, _ error: EventStoreError, _ state: inout State) {
        let fine: Bool
        switch (call.expectation, error) {
        case (_, .closed): fine = true
        case (.appendedOrWrongVersion, .wrongExpectedVersion), (.wrongVersion, .wrongExpectedVersion): fine = true
        case (.conflict, .idempotencyConflict): fine = true
        case (.resend, .wrongExpectedVersion), (.resend, .idempotencyConflict): fine = true
        case (.invalid, _): fine = true
        default: fine = false
        }
        if !fine { state.problems.append("\(call.summary()): refused, but \(call.expectation)") }
    }

    /// A name part no other client of this iteration has (for its fresh streams).
    func uniqueTag() -> String {
        state.withLock { state in
            state.tags += 1
            return "c\(state.tags)"
        }
    }

    /// The highest version acknowledged for `stream` so far.
    func knownVersion(of stream: StreamName) -> UInt64 { state.withLock { $0.knownVersions[stream] ?? 0 } }

    /// A snapshot of every call.
    var calls: [LedgerCall] { state.withLock { $0.calls } }

    /// Problems found so far.
    var problems: [String] { state.withLock { $0.problems } }

    func report(_ problem: String) { state.withLock { $0.problems.append(problem) } }

    /// Acknowledged events so far.
    var acknowledgedEventCount: Int {
        state.withLock { state in
            state.calls.reduce(0) { $0 + ($1.outcome.isAcknowledged ? $1.events.count : 0) }
        }
    }

    // MARK: Checking a store

    /// Reads the whole store and checks it against every call: each acknowledged
    /// call is present at the positions it was told, byte for byte; everything in
    /// the log is whole calls the workload made and did not see refused; positions
    /// and versions are dense; positions seen by an earlier check hold the same events;
    /// stream reads and backward reads agree with the forward log.
    func check(_ store: FileEventStore, label: String) {
        let events: [RecordedEvent]
        do {
            events = try store.readAll()
        } catch {
            report("\(label): readAll failed: \(error)")
            return
        }
        var problems: [String] = []
        let calls = self.calls
        defer { state.withLock { $0.problems += problems.prefix(20).map { "\(label): \($0)" } } }

        // Positions 1...N, dense.
        for (index, event) in events.enumerated() where event.position.rawValue != UInt64(index + 1) {
            problems.append("position \(event.position) found at log index \(index + 1): positions are not dense")
            return
        }
        if store.lastPosition.rawValue != UInt64(events.count) {
            problems.append("lastPosition is \(store.lastPosition) but the log holds \(events.count) events")
        }

        // Cut the log into whole calls.
        var callsByFirstID: [UUID: [Int]] = [:]
        for call in calls {
            if case .invalid = call.expectation { continue }
            if let first = call.idKey.first { callsByFirstID[first, default: []].append(call.number) }
        }
        var appearances: [[UUID]: Int] = [:]
        var index = 0
        while index < events.count {
            let event = events[index]
            let candidates = (callsByFirstID[event.id] ?? []).map { calls[$0 - 1] }
            guard let call = candidates.first(where: { Self.matches($0, events, at: index) }) else {
                let owner = calls.first { $0.idKey.contains(event.id) }
                problems.append(
                    "position \(event.position) (\(event.stream) v\(event.version), id \(event.id)) does not start a whole append call"
                        + (owner.map { "; it belongs to \($0.summary())" } ?? "; no call wrote this id"))
                return
            }
            if let problem = Self.checkContent(call, events, at: index) { problems.append(problem) }
            appearances[call.idKey, default: 0] += 1
            index += call.events.count
        }

        // Refused calls are absent; a group of identical calls appears at most once per member that may have written.
        var members: [[UUID]: [LedgerCall]] = [:]
        for call in calls { members[call.idKey, default: []].append(call) }
        for (key, count) in appearances {
            let group = members[key] ?? []
            let writers = group.filter { call in
                if case .refused = call.outcome { return false }
                // Whatever their outcome, these can never write: a retry of a call whose
                // versions it names, a conflicting resend, an impossible version, an invalid call.
                switch call.expectation {
                case .retry, .conflict, .wrongVersion, .invalid: return false
                default: return true
                }
            }
            if count > writers.count {
                problems.append(
                    "the events of \(group[0].summary()) appear \(count) times, but only \(writers.count) call(s) could have written them: "
                        + group.map { $0.summary() }.joined(separator: "; "))
            }
        }

        // Every acknowledged call is where its acknowledgement said, whole and byte for byte.
        for call in calls {
            guard case .acknowledged(let results) = call.outcome, results.count == call.parts.count else { continue }
            for (part, result) in zip(call.parts, results) {
                let first = Int(result.firstPosition.rawValue)
                let last = Int(result.lastPosition.rawValue)
                guard first >= 1, last <= events.count, last - first + 1 == part.events.count else {
                    problems.append("acknowledged \(call.summary()) is missing: the log ends at position \(events.count)")
                    continue
                }
                for (offset, expected) in part.events.enumerated() {
                    let found = events[first - 1 + offset]
                    let version = result.nextExpectedVersion.rawValue - UInt64(part.events.count) + 1 + UInt64(offset)
                    if found.id != expected.id || found.stream != part.stream || found.version.rawValue != version
                        || !Self.sameContent(found, expected)
                    {
                        problems.append(
                            "acknowledged \(call.summary()): position \(found.position) holds \(found.stream) v\(found.version) id \(found.id), "
                                + "not \(part.stream) v\(version) id \(expected.id)")
                        break
                    }
                }
            }
        }

        // Versions dense per stream; stream reads, versions and backward reads agree with the log.
        var streams: [StreamName: [RecordedEvent]] = [:]
        for event in events { streams[event.stream, default: []].append(event) }
        for (stream, streamEvents) in streams.sorted(by: { $0.key < $1.key }) {
            if streamEvents.map(\.version.rawValue) != Array(1...UInt64(streamEvents.count)) {
                problems.append("stream \(stream) has versions \(streamEvents.map(\.version.rawValue)), not 1...\(streamEvents.count)")
            }
            do {
                let read = try store.readStream(stream)
                if read != streamEvents { problems.append("readStream(\(stream)) differs from the log's events of that stream") }
                if try store.version(of: stream).rawValue != UInt64(streamEvents.count) {
                    problems.append("version(of: \(stream)) is not \(streamEvents.count)")
                }
            } catch {
                problems.append("readStream(\(stream)) failed: \(error)")
            }
        }
        do {
            if try store.readAll(from: .init(UInt64.max), direction: .backward) != events.reversed() {
                problems.append("readAll backward differs from the forward log reversed")
            }
        } catch {
            problems.append("readAll backward failed: \(error)")
        }

        // Positions never change once seen.
        state.withLock { state in
            for (position, id) in state.observed.sorted(by: { $0.key < $1.key }) {
                if position > UInt64(events.count) {
                    problems.append("position \(position) (id \(id)) was in the log at an earlier check and is gone")
                    break
                } else if events[Int(position) - 1].id != id {
                    problems.append("position \(position) held id \(id) at an earlier check, now \(events[Int(position) - 1].id)")
                    break
                }
            }
            for event in events { state.observed[event.position.rawValue] = event.id }
        }
    }

    private static func matches(_ call: LedgerCall, _ events: [RecordedEvent], at index: Int) -> Bool {
        let expected = call.events
        guard index + expected.count <= events.count else { return false }
        for (offset, item) in expected.enumerated() where events[index + offset].id != item.event.id { return false }
        return true
    }

    /// A call found in the log: its streams, contents and versions as it asked.
    private static func checkContent(_ call: LedgerCall, _ events: [RecordedEvent], at index: Int) -> String? {
        var offset = index
        for part in call.parts {
            let found = events[offset..<(offset + part.events.count)]
            for (recorded, expected) in zip(found, part.events) {
                guard recorded.stream == part.stream, sameContent(recorded, expected) else {
                    return "position \(recorded.position) holds the id of \(call.summary()) but not its stream or bytes"
                }
            }
            let firstVersion = found.first!.version.rawValue
            for (step, recorded) in found.enumerated() where recorded.version.rawValue != firstVersion + UInt64(step) {
                return "\(call.summary()): versions in the log are not consecutive"
            }
            if !fits(part.expectedVersion, firstVersion: firstVersion) {
                return "\(call.summary()): in the log at version \(firstVersion), against its expected version"
            }
            offset += part.events.count
        }
        return nil
    }

    /// Whether a part written from `firstVersion` on satisfied its expected version.
    static func fits(_ expected: ExpectedVersion, firstVersion: UInt64) -> Bool {
        switch expected {
        case .exact(let version): firstVersion == version.rawValue + 1
        case .noStream: firstVersion == 1
        case .streamExists: firstVersion >= 2
        case .any: true
        }
    }

    static func sameContent(_ recorded: RecordedEvent, _ expected: EventData) -> Bool {
        recorded.id == expected.id && recorded.type == expected.type && recorded.data == expected.data
            && recorded.metadata == expected.metadata && recorded.isJSON == expected.isJSON
            && recorded.correlationID == expected.correlationID && recorded.causationID == expected.causationID
    }
}
