import EventSourcing
import Foundation
import Testing

@testable import EventLog

/// An application service that appends from its own actor.
private actor Appender {
    let executor = CountingExecutor()
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Through the protocol, as a repository or projection runner calls it.
    func append(_ count: Int, to store: any EventStore) async throws -> [GlobalPosition] {
        var positions: [GlobalPosition] = []
        for index in 0..<count {
            positions.append(try await store.append([Self.event(index)], to: "s-1").lastPosition)
        }
        return positions
    }

    /// On the concrete type.
    func append(_ count: Int, toFileStore store: FileEventStore) async throws -> [GlobalPosition] {
        var positions: [GlobalPosition] = []
        for index in 0..<count {
            positions.append(try await store.append([Self.event(index)], to: "s-1").lastPosition)
        }
        return positions
    }

    private static func event(_ index: Int) -> EventData { EventData(type: "E", data: Data([UInt8(truncatingIfNeeded: index)])) }
}

@Suite struct AppendIsolationTests {
    /// `append` runs on the caller's actor (`nonisolated(nonsending)`, in the
    /// `EventStore` protocol too): a call that needs no sync, written by its own
    /// task under `.none`, never leaves the actor. Before, every call hopped off the
    /// actor and back (one job on its executor per call; a main-actor appender's
    /// no-sync call took about 24 µs instead of 1.3).
    @Test(arguments: [true, false])
    func anUnsyncedAppendFromAnActorStaysOnIt(throughTheProtocol: Bool) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: StoreOptions(durability: .none))
        let appender = Appender()
        let calls = 500
        let positions = throughTheProtocol
            ? try await appender.append(calls, to: store)
            : try await appender.append(calls, toFileStore: store)
        #expect(positions == (1...UInt64(calls)).map { GlobalPosition($0) })
        let jobs = appender.executor.jobs.load(ordering: .relaxed)
        #expect(jobs < 10, "\(jobs) jobs on the appender's executor for \(calls) calls")
        try await store.close()
    }

    /// The in-memory store too.
    @Test func anInMemoryAppendFromAnActorStaysOnIt() async throws {
        let appender = Appender()
        let positions = try await appender.append(500, to: InMemoryEventStore())
        #expect(positions.count == 500)
        #expect(appender.executor.jobs.load(ordering: .relaxed) < 10)
    }
}
