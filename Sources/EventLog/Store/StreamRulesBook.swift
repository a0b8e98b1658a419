// Truncation and deletion of streams: kept in memory for every read to consult
// (an empty book costs one check per read), persisted in the STREAMS file before
// a change takes effect.
import EventSourcing
import Foundation
import Synchronization

/// The stream rules of an open store.
final class StreamRulesBook: Sendable {
    private let rules: Mutex<[StreamName: StreamRule]>
    /// Serialises changes, so two changes never write the file out of order.
    private let changes = Mutex(())

    init(_ rules: [StreamName: StreamRule]) { self.rules = Mutex(rules) }

    /// Reads the STREAMS file of `directory` (none: no rules).
    static func load(directory: String, fileSystem: any FileSystem) throws -> StreamRulesBook {
        let path = directory + "/" + StreamRulesFormat.fileName
        guard fileSystem.exists(path) else { return StreamRulesBook([:]) }
        do {
            return StreamRulesBook(try StreamRulesFormat.decode(try fileSystem.readWholeFile(path)))
        } catch let error as FormatError {
            throw EventStoreError.corrupted(file: path, offset: 0, reason: error.reason)
        }
    }

    var isEmpty: Bool { rules.withLock { $0.isEmpty } }

    /// Replaces every rule with those another process wrote (a read-only store
    /// following a writer rereads the STREAMS file).
    func replaceAll(with newRules: [StreamName: StreamRule]) {
        rules.withLock { $0 = newRules }
    }

    /// The stream's rule (no rules, the usual case: no hashing of the name).
    func rule(for stream: StreamName) -> StreamRule? { rules.withLock { $0.isEmpty ? nil : $0[stream] } }

    /// A snapshot of all rules, for filtering a batch of events without re-locking.
    var all: [StreamName: StreamRule] { rules.withLock { $0 } }

    /// Applies `change` to `stream`'s rule and persists the result before it takes effect.
    func update(
        _ stream: StreamName, directory: String, fileSystem: any FileSystem, _ change: (inout StreamRule) throws -> Void
    ) throws {
        try updateAll(directory: directory, fileSystem: fileSystem) { rules in
            var rule = rules[stream] ?? StreamRule()
            try change(&rule)
            rules[stream] = rule
        }
    }

    /// Applies `change` to the rules of any streams at once, with one rewrite of the
    /// file, and persists the result before it takes effect.
    func updateAll(
        directory: String, fileSystem: any FileSystem, _ change: (inout [StreamName: StreamRule]) throws -> Void
    ) throws {
        try changes.withLock { _ in
            var updated = rules.withLock { $0 }
            try change(&updated)
            updated = updated.filter { !$0.value.isEmpty }
            try fileSystem.writeAtomically(
                StreamRulesFormat.encode(updated), to: directory + "/" + StreamRulesFormat.fileName, directory: directory)
            rules.withLock { $0 = updated }
        }
    }
}
