// An I/O error at every call site the engine uses (write, fdatasync, fsync, folder
// fsync, open, rename, unlink, ftruncate, fallocate, close), on the 1st to 4th
// call, once and for good, as EIO and as ENOSPC: nothing is falsely acknowledged,
// the writer stops cleanly, the store stays readable, and a reopen after a power
// loss holds every acknowledged event.
import EventSourcing
import Testing

@_spi(Testing) @testable import EventLog

@Suite struct IOFaultMatrixTests {
    typealias Operation = SimulatedFileSystem.Operation

    static let callSites: [Operation] = [.write, .syncData, .sync, .syncDirectory, .open, .rename, .remove, .truncate, .allocate, .close]
    static let errnos: [Int32] = [SimulatedFileSystem.ioError, SimulatedFileSystem.noSpace]

    @Test(arguments: callSites, errnos)
    func anIOErrorAtAnyCallSiteLosesNothingAcknowledgedAndAcknowledgesNothingFalsely(operation: Operation, errno: Int32) async throws {
        var reached = 0
        for persistent in [false, true] {
            for nthCall in 1...4 {
                let fault = SimulatedFileSystem.Fault(operation, nthCall: nthCall, errno: errno, persistent: persistent)
                let run = await FaultRun.run(fault, seed: UInt64(nthCall) * 7919 + (persistent ? 1 : 0))
                let details = run.problems.joined(separator: "\n") + "\n" + run.trace.joined(separator: "\n")
                #expect(run.problems.isEmpty, "\(fault):\n\(details)")
                if run.faultsTriggered > 0 { reached += 1 }
                if nthCall == 1 { #expect(run.faultsTriggered > 0, "\(fault): the workload reaches this call site") }
            }
        }
        #expect(reached >= 2)
    }
}

/// One store life with a fault armed halfway: a clean session, a leftover `.tmp`
/// (so recovery unlinks something), the faulty session, a power loss, and recovery.
enum FaultRun {
    struct Result {
        var problems: [String] = []
        var faultsTriggered = 0
        var trace: [String] = []
    }

    static let directory = "/data/store"

    static func run(_ fault: SimulatedFileSystem.Fault, seed: UInt64) async -> Result {
        let fileSystem = SimulatedFileSystem(seed: seed)
        fileSystem.makeDurableDirectory(directory)
        let ledger = CrashTestLedger()
        var client = CrashTestClient(seed: seed, ledger: ledger, phase: 0, tag: "fault")
        // About 6 KiB a call: a 64 KiB segment seals (footer, ftruncate, fsync), the
        // next is created (open, fallocate, fsync, folder fsync) and an index file is
        // written (open, write, fsync, close, rename, folder fsync) every ten calls.
        client.dataBytes = 3_000...9_000
        var options = StoreOptions()
        options.segmentSizeBytes = StoreOptions.minimumSegmentSizeBytes
        var result = Result()

        do {
            let clean = try FileEventStore.open(directory: directory, options: options, simulatedFileSystem: fileSystem)
            for index in 0..<6 { await append(&client, index, to: clean, fileSystem) }
            try await clean.close()
            let disk = fileSystem.attach()
            let leftover = try disk.open(directory + "/00000000000000000001.idx.tmp", mode: .createExclusive)
            try disk.close(leftover)
            try disk.syncDirectory(directory)
        } catch {
            ledger.report("the session before the fault failed: \(error)")
        }

        fileSystem.inject(fault)
        if let faulty = try? FileEventStore.open(directory: directory, options: options, simulatedFileSystem: fileSystem) {
            var writerFailed = false
            for index in 0..<30 {
                let acknowledged = await append(&client, index, to: faulty, fileSystem)
                if acknowledged && writerFailed { ledger.report("an append was acknowledged after the writer had failed") }
                if case .uncertain(let reason) = ledger.calls.last!.outcome, reason.contains("writer") { writerFailed = true }
            }
            // Reads need no space: after ENOSPC, and after any failure that leaves
            // opening files possible, the store reads exactly what it acknowledged.
            if fault.errno == Errno.noSpace || fault.operation != .open {
                ledger.check(faulty, label: "the store that saw \(fault)")
            }
            try? await faulty.close()
        } else if fileSystem.faultsTriggered == 0 {
            ledger.report("opening failed without an injected fault")
        }
        result.faultsTriggered = fileSystem.faultsTriggered

        fileSystem.removeFaults()
        fileSystem.crash()
        do {
            let recovered = try FileEventStore.open(directory: directory, options: options, simulatedFileSystem: fileSystem)
            ledger.check(recovered, label: "after the fault and a power loss")
            await append(&client, 0, to: recovered, fileSystem)
            if !ledger.calls.last!.outcome.isAcknowledged { ledger.report("the recovered store refused an append") }
            try await recovered.close()
            let report = try FileEventStore.verify(directory: directory, simulatedFileSystem: fileSystem)
            if !report.isHealthy { ledger.report("verify: \(report.problems)") }
        } catch {
            ledger.report("recovery failed: \(error)")
        }
        result.problems = ledger.problems + fileSystem.misuses.map { "misuse: \($0)" }
        result.trace = ledger.calls.map { $0.summary() }
        return result
    }

    /// One `.any` append to one of three streams, recorded in the ledger; true if acknowledged.
    @discardableResult
    static func append(_ client: inout CrashTestClient, _ index: Int, to store: FileEventStore, _ fileSystem: SimulatedFileSystem) async -> Bool {
        let part = StreamAppend(stream: StreamName(unchecked: "fault-\(index % 3)"), expectedVersion: .any, events: client.events())
        return await CrashTestRound.append(
            [part], expectation: .appended, to: store, client: client, fileSystem: fileSystem, crashesBefore: 0,
            disturbed: { fileSystem.faultsTriggered > 0 })
    }
}
