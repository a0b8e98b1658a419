// The single writer: one dedicated thread drains every pending append into one
// buffer, one write and one fdatasync (group commit), publishes the new events to
// readers, and only then resumes the appenders. If the store's options allow, a
// lone appender that finds the writer thread asleep writes its call itself, on its
// own thread, and saves the two thread hand-offs. See DESIGN.md, "Writer".
import EventSourcing
import Foundation
import Synchronization

/// An append call waiting for the writer.
struct PendingAppend {
    let parts: [StreamAppend]
    let eventCount: Int
    let continuation: UnsafeContinuation<[AppendResult], any Error>
}

/// Counters of the writer's work, for tests and the benchmark.
public struct WriterStatistics: Sendable, Hashable {
    /// Append calls acknowledged (idempotent retries included).
    public var appendsAcknowledged: UInt64 = 0
    /// Append calls that their caller took on its own thread, because the writer
    /// thread was idle (see DESIGN.md, "Writer and group commit"): written, or
    /// refused by the writer's checks (a wrong expected version, say) there.
    public var callsWrittenByCaller: UInt64 = 0
    /// Events written.
    public var eventsWritten: UInt64 = 0
    /// Batches written (one write each, plus one per segment roll).
    public var batches: UInt64 = 0
    /// `fdatasync`/`fsync` calls on segment files.
    public var syncs: UInt64 = 0
    /// Segments sealed.
    public var segmentsSealed: UInt64 = 0
    /// Batches whose appenders were resumed by the store's acknowledging thread
    /// (`eventlog-acks`) while the writer thread went on with the calls queued
    /// behind them, rather than by the writer thread itself.
    public var batchesHandedToAcknowledger: UInt64 = 0
    /// Writes of records through the active segment's memory mapping rather than
    /// `pwrite` (under `.none` and `.batched`, see DESIGN.md, "Writer and group commit").
    public var writesThroughMapping: UInt64 = 0
}

/// Fixed facts about where and how the writer writes.
struct LogConfiguration: Sendable {
    let directory: String
    let storeID: UUID
    let segmentSizeBytes: UInt64
    let preallocate: Bool
    let durability: Durability
    /// Whether a lone appender writes its own call (``LogWriter/appendOnCallingThread(_:)``).
    let loneAppenderWrites: Bool
    let fileSystem: any FileSystem
    /// How soon after a caller published `POSITION` through its mapping the writer
    /// thread rewrites it with `pwrite` (see ``LogWriter``'s `positionNudgeDeadline`).
    var positionNudgeDelayNanoseconds: UInt64 = 1_000_000

    /// Whether the active segment is written through a memory mapping (no system
    /// call per write): only where no call waits for a sync, so that `.fsync` keeps
    /// `pwrite` (a sync dominates its calls, and an I/O error stays an error rather
    /// than a `SIGBUS`), and only into a pre-allocated file (a mapping must not
    /// reach past the end of the file).
    var mapsActiveSegment: Bool { preallocate && durability != .fsync }

    /// How full the active segment must be for a clean close to seal it
    /// (``LogWriter``'s `sealOnCloseIfLarge`): an eighth, so the checkpoint an open
    /// loads whole covers at most an eighth of a segment's records (about 8 MiB of
    /// records for the default 64 MiB: a millisecond), and a segment sealed early
    /// holds at least that much.
    static let sealOnCloseFraction = 0.125
}

/// The segment being appended to, as the writer thread knows it.
struct ActiveSegment {
    let segment: Segment
    /// End of the bytes written to the file so far.
    var writeEnd: UInt64
    var recordCount: UInt64
    /// CRC32C over the CRC fields of the records, in order (goes into the footer).
    var recordsChecksum: UInt32
    /// How many records the segment's index checkpoint on disk covers, when the
    /// store opened on one: a close that added nothing leaves that file alone
    /// rather than rewriting it (megabytes, a sync and a rename).
    var checkpointedRecordCount: Int? = nil
    /// Whether a clean close trimmed the segment's pre-allocated zero tail (so the
    /// next open reads no megabytes of zeros): the writer extends it again, and
    /// `fsync`s the new size, before its first write (``LogWriter/flush()``).
    var isTrimmed = false
}

/// The log writer. Appenders call ``appendOnCallingThread(_:)`` or ``submit(_:)``
/// from any thread. The writer-only state below belongs to whoever holds the write
/// turn: the writer thread, except while it sleeps and an appender has taken the
/// turn (`isCallerWriting`); the turn passes under `queue`, which orders the state's
/// accesses between the threads.
final class LogWriter: @unchecked Sendable {
    private let configuration: LogConfiguration
    private let shared: SharedLog

    // Every stored `var` below is marked `@exclusivity(unchecked)`: each is only
    // touched under `queue` or by the holder of the write turn (DESIGN.md,
    // invariant 14), so no two accesses overlap, and the run-time exclusivity check
    // Swift makes on a class's properties (about 80 instructions, some twenty per
    // append call) buys nothing. ThreadSanitizer runs on the writer in CI.

    // Shared with appenders, guarded by `queue`.
    private let queue = ConditionLock()
    @exclusivity(unchecked) private var pending: [PendingAppend] = []
    /// Work for the writer thread between batches (``runBetweenBatches(_:)``): seals
    /// compaction asks for, rule changes that must not interleave with appends.
    @exclusivity(unchecked) private var betweenBatches: [BetweenBatches] = []
    @exclusivity(unchecked) private var isClosing = false
    @exclusivity(unchecked) private var failure: EventStoreError?
    @exclusivity(unchecked) private var exitContinuations: [CheckedContinuation<Void, Never>] = []
    @exclusivity(unchecked) private var hasExited = false
    /// Whether the writer thread waits on the condition variable (else it is busy
    /// or spinning, and appenders need not signal it).
    @exclusivity(unchecked) private var isWriterSleeping = false
    /// Mirrors `!pending.isEmpty` for the writer's lock-free spin.
    private let hasPending = Atomic<Bool>(false)
    /// Whether an appender holds the write turn (see ``appendOnCallingThread(_:)``).
    @exclusivity(unchecked) private var isCallerWriting = false
    /// When the writer thread is to rewrite `POSITION` with `pwrite` after callers
    /// published through its mapping: followers' inotify watches see only that, so it
    /// comes at most `positionNudgeDelayNanoseconds` after the first such call, and
    /// one wake-up of the writer thread serves every call meanwhile.
    @exclusivity(unchecked) private var positionNudgeDeadline: UInt64?
    /// When the sleeping writer thread wakes by itself (nil: only when signalled).
    @exclusivity(unchecked) private var writerSleepsUntil: UInt64?
    /// The task that made the last call (its address). Only a task that
    /// calls again, with nobody else's call between, writes its own call: a lone
    /// appender. Calls of different live tasks one after the other are concurrent
    /// appenders, or a loaded cooperative pool whose other appenders cannot run yet;
    /// they queue, so that they share syncs (group commit) and no thread of the pool
    /// blocks in a sync while they wait. (A new task that took over a finished one's
    /// memory counts as the same: its calls did follow the other's, one at a time.)
    @exclusivity(unchecked) private var lastCallingTask: UInt?

    /// How long the writer polls for new work before sleeping: appenders come back
    /// within a few microseconds, and catching them while spinning saves a futex
    /// wake-up per batch.
    private static let spinNanoseconds: UInt64 = 50_000

    /// How many queued calls make the writer hand a written batch's resumptions to
    /// ``AppendAcknowledger``'s thread and go on with them at once.
    private static let queuedCallsToHandOver = 4

    // Writer-only: whoever holds the write turn.
    @exclusivity(unchecked) private var active: ActiveSegment
    @exclusivity(unchecked) private var nextPosition: UInt64
    @exclusivity(unchecked) private var lastTimestamp: Int64 = 0
    @exclusivity(unchecked) private var buffer = ByteBuffer(capacity: 1 << 20)
    @exclusivity(unchecked) private var unsyncedSinceNanoseconds: UInt64?
    @exclusivity(unchecked) private var heads: StreamHeads
    private let reader: LogReader
    private let cache: IndexCache
    /// The stream of the last part encoded, with its hash and category: a run of
    /// calls to one stream (the usual case) works them out once, not per call (the
    /// category alone was about 330 instructions of a no-sync append's 10,600).
    @exclusivity(unchecked) private var lastEncodedStream: (stream: StreamName, hash: UInt64, category: String)?
    /// Records of the batch being written, per segment, published after its sync.
    @exclusivity(unchecked) private var touched: [TouchedSegment] = []
    /// The batch's accepted parts, in order: each accepted call's plans are a range
    /// of it (`batchAccepted`), and retries within one batch are found in it.
    @exclusivity(unchecked) private var batchPlans: [PartPlan] = []
    /// The batch's accepted calls: the call's index in the batch, its plans' range
    /// in `batchPlans`. Kept between batches, like `batchPlans` and `touched`, so
    /// that a batch allocates only its callers' results.
    @exclusivity(unchecked) private var batchAccepted: [(request: Int, plans: Range<Int>)] = []
    /// Each call's outcome in the batch being written.
    @exclusivity(unchecked) private var batchOutcomes: [Result<[AppendResult], EventStoreError>] = []
    @exclusivity(unchecked) private var batchFirstPosition: UInt64 = 0
    /// Segments sealed by a batch whose index files are still to be written.
    @exclusivity(unchecked) private var sealedAwaitingIndexFiles: [Segment] = []
    /// Where the acknowledged position is published for other processes.
    @exclusivity(unchecked) private var positionFile: OpenFile?
    /// `POSITION` mapped into memory: a caller's unsynced write publishes through it
    /// without a system call; the writer thread's later `pwrite` of the same bytes
    /// (the nudge, see `positionNudgeDeadline`) wakes followers watching the folder,
    /// since inotify sees no write to a mapping.
    @exclusivity(unchecked) private var positionMapping: (any WritableMapping)?
    /// Set by a write that published `POSITION` through the mapping; the holder of the
    /// turn turns it into `positionNudgeDeadline` when it hands the turn back.
    @exclusivity(unchecked) private var positionNudgeOwed = false
    /// The active segment's mapping (nil inside: mapping it failed, so it is written
    /// with `pwrite`), made on its first write.
    @exclusivity(unchecked) private var activeMapping: (segment: Segment, mapping: (any WritableMapping)?)?

    private let statistics = Mutex(WriterStatistics())
    /// Resumes the writer thread's batches' appenders, while it goes on.
    private let acknowledger = AppendAcknowledger()

    /// One segment's share of a batch.
    private struct TouchedSegment {
        let segment: Segment
        var records: [PendingRecord] = []
        var isSealed = false
    }

    init(
        configuration: LogConfiguration, shared: SharedLog, cache: IndexCache, active: ActiveSegment, nextPosition: UInt64,
        lastTimestamp: Int64, streamCacheCapacity: Int
    ) {
        self.configuration = configuration
        self.shared = shared
        self.cache = cache
        self.active = active
        self.nextPosition = nextPosition
        self.heads = StreamHeads(capacity: streamCacheCapacity)
        // Timestamps never decrease with position, across restarts too (the time
        // index relies on it), even if the clock went back meanwhile.
        self.lastTimestamp = lastTimestamp
        self.reader = LogReader(shared: shared, fileSystem: configuration.fileSystem)
        positionFile = try? configuration.fileSystem.open(
            configuration.directory + "/" + PositionFileFormat.fileName, mode: .createOrOpen)
        publishPosition(nextPosition - 1)
        if let positionFile {
            positionMapping = try? configuration.fileSystem.mapForWriting(positionFile, lengthBytes: UInt64(PositionFileFormat.size))
        }
    }

    deinit {
        if let positionFile { try? configuration.fileSystem.close(positionFile) }
    }

    /// Tells followers in other processes how far they may read. Advisory: a failure
    /// only delays them, so it neither stops the writer nor fails an append.
    private func publishPosition(_ position: UInt64) {
        guard let positionFile else { return }
        try? PositionFileFormat.withEncoded(position) { try configuration.fileSystem.write(positionFile, $0, at: 0) }
    }

    /// Publishes a batch's last position: through the mapping when there is one
    /// (visible to a follower's next refresh at once; the writer thread's nudge wakes
    /// watching followers soon after, one `pwrite` for every batch meanwhile), else
    /// with `pwrite`.
    private func publishPositionThroughMapping(_ position: UInt64) {
        guard let positionMapping else { return publishPosition(position) }
        try? PositionFileFormat.withEncoded(position) { try positionMapping.write($0, at: 0) }
        positionNudgeOwed = true
    }

    /// Starts the writer thread.
    func start() {
        acknowledger.start()
        NamedThread.start(named: "eventlog-writer") { [self] in self.run() }
    }

    var currentStatistics: WriterStatistics { statistics.withLock { $0 } }

    /// Writes the call on the calling thread, if the writer thread sleeps, nothing is
    /// queued, and the calling task made the previous call too (`lastCallingTask`):
    /// the caller takes the write turn, runs the batch of one call exactly as the
    /// writer thread would (decide, write, sync, publish), and hands the turn back.
    /// This saves the writer thread's wake-up and the appender's resumption, two
    /// thread hand-offs that cost about a fifth of a lone appender's time. It blocks
    /// the calling thread for the write and sync, which the lone appender would have
    /// waited for anyway; only one caller at a time holds the turn.
    ///
    /// Only when ``StoreOptions/loneAppenderWritesOnItsThread`` is on, or under
    /// ``Durability/none``; never for a call that fills the active segment (sealing it
    /// syncs and creates a file: the writer thread's work).
    ///
    /// - Returns: The call's results, or nil when the writer is busy (or failed, or
    ///   closing), or another task made the previous call: the caller then queues
    ///   the call with ``submit(_:)``.
    /// - Throws: The call's rejection, or ``EventStoreError/writerFailed(reason:)``.
    func appendOnCallingThread(_ parts: [StreamAppend]) throws(EventStoreError) -> [AppendResult]? {
        guard configuration.loneAppenderWrites else { return nil }
        // The task's address, not its `hashValue` (hashing it was ~200 instructions
        // of a no-sync call's ~16,000).
        let task = withUnsafeCurrentTask { $0.map { unsafeBitCast($0, to: UInt.self) } }
        queue.lock()
        let isLoneAppender = task != nil && task == lastCallingTask
        lastCallingTask = task
        guard isLoneAppender, isWriterSleeping, !isCallerWriting, pending.isEmpty, betweenBatches.isEmpty, refusal == nil
        else {
            queue.unlock()
            return nil
        }
        isCallerWriting = true
        queue.unlock()
        let callBytes = parts.reduce(0) { $0 + RecordLayout.recordsSize(of: $1) }
        if active.writeEnd + UInt64(callBytes + SegmentFooter.size) > configuration.segmentSizeBytes {
            queue.lock()
            isCallerWriting = false
            queue.unlock()
            return nil
        }
        statistics.withLock { $0.callsWrittenByCaller += 1 }

        let outcome = write(CollectionOfOne(parts))[0]
        let owesNudge = positionNudgeOwed
        positionNudgeOwed = false

        queue.lock()
        isCallerWriting = false
        if owesNudge, positionNudgeDeadline == nil {
            positionNudgeDeadline = Clock.monotonicNanoseconds() + configuration.positionNudgeDelayNanoseconds
        }
        // The writer thread must wake for what only it does: queued work, index
        // files, and a deadline (a `.batched` sync, a `POSITION` nudge) earlier than
        // it would wake by itself. It may sleep without any deadline: it went to
        // sleep while this caller held the turn. Once it sleeps until the deadline,
        // later calls need not wake it: one wake-up serves them all.
        let deadline = nextDeadline()
        let wakesTooLate = deadline.map { deadline in writerSleepsUntil.map { $0 > deadline } ?? true } ?? false
        if isWriterSleeping
            && (wakesTooLate || !sealedAwaitingIndexFiles.isEmpty || !pending.isEmpty || !betweenBatches.isEmpty || isClosing)
        {
            queue.signal()
        }
        queue.unlock()
        return try outcome.get()
    }

    /// Why the writer takes no more work, if it does not: its failure, or a close.
    /// Read with `queue` held.
    private var refusal: EventStoreError? { failure ?? (isClosing ? .closed : nil) }

    /// Queues an append; its continuation is resumed once it is durable under the
    /// store's durability mode, or has failed.
    func submit(_ append: PendingAppend) {
        queue.lock()
        if let refusal {
            queue.unlock()
            append.continuation.resume(throwing: refusal)
            return
        }
        pending.append(append)
        hasPending.store(true, ordering: .releasing)
        if isWriterSleeping && pending.count == 1 { queue.signal() }
        queue.unlock()
    }

    /// Seals the active segment, if it holds any record, and starts a new one, after
    /// the appends queued before this call: everything written so far is then in
    /// sealed segments, which compaction may rewrite. Returns once the sealed
    /// segment's index file is written too.
    ///
    /// - Throws: ``EventStoreError/closed`` or ``EventStoreError/writerFailed(reason:)``.
    func sealActiveSegment() async throws {
        try await runBetweenBatches { [self] in
            if active.recordCount > 0 { sealActiveSegmentNow() }
            if let failure = failureReason { throw failure }
        }
    }

    /// Runs `work` on the writer thread between two batches: every append decided
    /// before it is written and published, and none is decided while it runs (nor
    /// written by a caller holding the write turn). For the writer's own work done on
    /// request (a seal), and for changes to the stream rules whose check of a
    /// stream's version must hold until the rule takes effect: a check on the
    /// caller's thread could pass while an append to the stream waited in its sync,
    /// acknowledged afterwards under a rule that did not allow for it. Not run once
    /// the writer has failed (it throws the failure instead).
    ///
    /// - Throws: What `work` throws; ``EventStoreError/closed``;
    ///   ``EventStoreError/writerFailed(reason:)``.
    func runBetweenBatches<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            queue.lock()
            if let refusal {
                queue.unlock()
                continuation.resume(throwing: refusal)
                return
            }
            betweenBatches.append(
                BetweenBatches(
                    run: { continuation.resume(with: Result { try work() }) },
                    fail: { continuation.resume(throwing: $0) }))
            hasPending.store(true, ordering: .releasing)
            if isWriterSleeping { queue.signal() }
            queue.unlock()
        }
    }

    /// Stream heads evicted from the writer's cache so far. Work between batches
    /// that looked versions up earlier reads it to know whether the cache still
    /// holds every stream appended to since (``cachedStreamVersion(_:)``).
    let streamHeadEvictions = Atomic<Int>(0)

    /// The stream's version as the writer's cache of heads has it, or nil if it is
    /// not cached. Only for work run between batches (``runBetweenBatches(_:)``):
    /// every call decided is published then, so a cached head is the stream's
    /// published one. A stream appended to since `streamHeadEvictions` read some
    /// count is in the cache while the count is unchanged: the append put it there
    /// when it was decided, and only an eviction takes it out.
    func cachedStreamVersion(_ stream: StreamName) -> UInt64? { heads.head(of: stream)?.version }

    /// Work queued for ``runBetweenBatches(_:)``: done, or failed with the writer.
    private struct BetweenBatches {
        let run: () -> Void
        let fail: (any Error) -> Void
    }

    /// Appends queued and not yet taken by the writer thread (for tests).
    var pendingCount: Int { queue.withLock { pending.count } }

    /// Work queued for ``runBetweenBatches(_:)`` and not yet taken (for tests).
    var pendingBetweenBatchesCount: Int { queue.withLock { betweenBatches.count } }

    /// How the writer thread waits (tests).
    enum ThreadState: Equatable {
        case awake
        case sleepsUntilSignalled
        case sleepsUntilDeadline
    }

    var threadState: ThreadState {
        queue.withLock { isWriterSleeping ? (writerSleepsUntil == nil ? .sleepsUntilSignalled : .sleepsUntilDeadline) : .awake }
    }

    /// Whether the writer thread sleeps with nothing queued and no nudge pending, so
    /// that the next lone call is written by its caller (for tests).
    var isIdle: Bool {
        queue.withLock {
            isWriterSleeping && !isCallerWriting && pending.isEmpty && sealedAwaitingIndexFiles.isEmpty
                && positionNudgeDeadline == nil
        }
    }

    /// The failure that stopped the writer, if any.
    var failureReason: EventStoreError? { queue.withLock { failure } }

    /// Asks the writer to finish the queued appends, sync, and stop; returns once it has.
    func close() async {
        await withCheckedContinuation { continuation in
            queue.lock()
            if hasExited {
                queue.unlock()
                continuation.resume()
                return
            }
            isClosing = true
            exitContinuations.append(continuation)
            queue.signal()
            queue.unlock()
        }
    }

    /// Asks the writer to stop after the queued appends, without waiting (for deinit).
    func requestClose() {
        queue.lock()
        isClosing = true
        queue.signal()
        queue.unlock()
    }

    // MARK: The writer thread

    private func run() {
        var batch: [PendingAppend] = []
        batch.reserveCapacity(256)
        var acknowledgements: [AppendAcknowledger.Acknowledgement] = []
        var lastBatchHadManyCalls = false
        var owesNudge = false
        while true {
            // Appenders come back within microseconds: polling catches them without a
            // futex wake-up. A lone appender that may write its own calls is better
            // served by a sleeping thread: its next call then writes itself.
            if lastBatchHadManyCalls || !configuration.loneAppenderWrites { spinForWork() }
            queue.lock()
            if owesNudge, positionNudgeDeadline == nil {
                positionNudgeDeadline = Clock.monotonicNanoseconds() + configuration.positionNudgeDelayNanoseconds
            }
            owesNudge = false
            // Asleep, the thread has no write turn: a caller may take it. Awake, it
            // looks at its own state only once no caller holds the turn.
            while isCallerWriting
                || (pending.isEmpty && betweenBatches.isEmpty && !isClosing && sealedAwaitingIndexFiles.isEmpty)
            {
                isWriterSleeping = true
                defer { isWriterSleeping = false }
                // While a caller holds the turn, its state (the sync deadline) is not
                // this thread's to read: it sleeps until signalled, and the caller
                // signals on handing the turn back if a deadline needs it sooner.
                if !isCallerWriting, let deadline = nextDeadline() {
                    if Clock.monotonicNanoseconds() >= deadline { break }
                    writerSleepsUntil = deadline
                    queue.wait(untilMonotonicNanoseconds: deadline)
                } else {
                    writerSleepsUntil = nil
                    queue.wait()
                }
            }
            let stopping = pending.isEmpty && isClosing
            // The nudge is due at its deadline (batches meanwhile publish through the
            // mapping and owe it), or on close.
            var nudgesPosition = false
            if let deadline = positionNudgeDeadline, stopping || Clock.monotonicNanoseconds() >= deadline {
                positionNudgeDeadline = nil
                nudgesPosition = true
            }
            swap(&batch, &pending)
            lastBatchHadManyCalls = batch.count > 1
            let work = betweenBatches
            betweenBatches = []
            hasPending.store(false, ordering: .relaxed)
            let failure = failure
            queue.unlock()

            if let failure {
                // Through the acknowledger too, behind any outcomes it still holds.
                for append in batch { acknowledgements.append((append.continuation, .failure(failure))) }
                acknowledger.deliver(&acknowledgements, handingOver: false)
            } else if !batch.isEmpty {
                let outcomes = write(batch.lazy.map(\.parts))
                for (append, outcome) in zip(batch, outcomes) { acknowledgements.append((append.continuation, outcome)) }
                // Handed over when enough calls wait to make the next batch worth
                // starting at once; with fewer, resuming here is the short wait in
                // which the batch's appenders come back to share the next sync.
                let handsOver = queue.withLock { pending.count } >= Self.queuedCallsToHandOver
                if handsOver { statistics.withLock { $0.batchesHandedToAcknowledger += 1 } }
                acknowledger.deliver(&acknowledgements, handingOver: handsOver)
            }
            batch.removeAll(keepingCapacity: true)
            owesNudge = positionNudgeOwed
            positionNudgeOwed = false
            if nudgesPosition && failure == nil { publishPosition(nextPosition - 1) }
            // Index files of sealed segments, off the appenders' path.
            writeAwaitingIndexFiles()
            // After this thread's batch is published and before the next is decided.
            for item in work {
                if let failure = failureReason { item.fail(failure) } else { item.run() }
            }
            if failure == nil { syncIfDue(force: stopping) }
            if stopping {
                if failureReason == nil { sealOnCloseIfLarge() }
                // Not after a failed seal: trimming would cut the footer it may have written.
                if failureReason == nil {
                    writeIndexFilesHeldInMemory()
                    writeCheckpoint()
                    trimZeroTail()
                }
                break
            }
        }
        acknowledger.stop()
        queue.lock()
        hasExited = true
        let waiters = exitContinuations
        exitContinuations = []
        queue.unlock()
        for waiter in waiters { waiter.resume() }
    }

    /// When the sleeping writer thread must wake by itself: the `.batched` sync
    /// deadline of the oldest unsynced write, or the `POSITION` nudge, whichever is
    /// first. Called under `queue` while no thread is using the turn's state: by the
    /// writer thread while no caller holds the turn, or by a caller handing it back.
    private func nextDeadline() -> UInt64? {
        var deadline = positionNudgeDeadline
        if let since = unsyncedSinceNanoseconds, case .batched(let delay) = configuration.durability {
            let syncDeadline = since + UInt64(max(delay.nanoseconds, 0))
            deadline = min(deadline ?? syncDeadline, syncDeadline)
        }
        return deadline
    }

    /// Polls for queued appends for up to ``spinNanoseconds`` without taking the lock.
    private func spinForWork() {
        if hasPending.load(ordering: .acquiring) { return }
        let deadline = Clock.monotonicNanoseconds() + Self.spinNanoseconds
        repeat {
            Clock.yieldProcessor()
            if hasPending.load(ordering: .acquiring) { return }
        } while Clock.monotonicNanoseconds() < deadline
    }

    /// In `.batched` mode, syncs when the oldest unsynced write is `maxDelay` old;
    /// in every mode, syncs on close.
    private func syncIfDue(force: Bool) {
        guard let since = unsyncedSinceNanoseconds else { return }
        var due = force
        if case .batched(let delay) = configuration.durability,
            Clock.monotonicNanoseconds() >= since + UInt64(max(delay.nanoseconds, 0))
        {
            due = true
        }
        guard due else { return }
        do {
            try configuration.fileSystem.syncData(active.segment.file)
            countSync()
            unsyncedSinceNanoseconds = nil
        } catch {
            fail(error)
        }
    }

    /// Writes a batch of calls: decides, encodes, writes, syncs under the durability
    /// mode, and publishes. Returns each call's outcome, in order; the caller
    /// delivers them.
    private func write<Calls: RandomAccessCollection<[StreamAppend]>>(
        _ batch: Calls
    ) -> [Result<[AppendResult], EventStoreError>] where Calls.Index == Int {
        batchOutcomes.removeAll(keepingCapacity: true)
        batchAccepted.removeAll(keepingCapacity: true)
        batchFirstPosition = nextPosition
        batchPlans.removeAll(keepingCapacity: true)
        let timestamp = max(shared.wallClock(), lastTimestamp)
        lastTimestamp = timestamp

        // 1. Decide every call against the stream heads, including calls accepted
        //    earlier in this batch. Heads missing from the cache come from the indexes.
        do {
            for parts in batch {
                for part in parts where heads.head(of: part.stream) == nil {
                    heads.set(try reader.streamHead(part.stream) ?? StreamHead(version: 0, lastEventID: nil), for: part.stream)
                }
            }
        } catch {
            return Array(repeating: .failure(fail(error)), count: batch.count)
        }
        for (index, parts) in batch.enumerated() {
            switch decide(parts) {
            case .accepted(let plans):
                batchAccepted.append((index, plans))
                // Replaced by the call's results once they are published.
                batchOutcomes.append(.success([]))
            case .finished(let outcome): batchOutcomes.append(outcome)
            }
        }

        // 2. Encode and write, rolling segments between calls, never inside one.
        startTouched()
        buffer.removeAll()
        do {
            for (_, range) in batchAccepted {
                let plans = batchPlans[range]
                let callBytes = plans.reduce(0) { $0 + $1.encodedBytes }
                let projectedEnd = active.writeEnd + UInt64(buffer.count + callBytes + SegmentFooter.size)
                if projectedEnd > configuration.segmentSizeBytes && active.recordCount > 0 {
                    try flush()
                    sealedAwaitingIndexFiles.append(active.segment)
                    try roll(nextFirstPosition: plans[plans.startIndex].firstPosition)
                }
                encode(plans, timestamp: timestamp)
            }
            try flush()
            if !batchAccepted.isEmpty {
                switch configuration.durability {
                case .fsync:
                    try configuration.fileSystem.syncData(active.segment.file)
                    countSync()
                case .batched, .none:
                    if unsyncedSinceNanoseconds == nil { unsyncedSinceNanoseconds = Clock.monotonicNanoseconds() }
                }
            }
        } catch {
            return Array(repeating: .failure(fail(error)), count: batch.count)
        }

        // 3. Publish: the events become visible only now, after their sync; to other
        //    processes too, before any appender hears back, so that an append that
        //    returned is visible to a follower's next refresh.
        let lastWritten = nextPosition - 1
        publish(lastWritten: lastWritten)
        if lastWritten >= batchFirstPosition {
            publishPositionThroughMapping(lastWritten)
        }
        statistics.withLock {
            $0.batches += 1
            $0.eventsWritten += lastWritten + 1 - batchFirstPosition
            $0.appendsAcknowledged += UInt64(batchOutcomes.count { if case .success = $0 { true } else { false } })
        }

        for (index, range) in batchAccepted { batchOutcomes[index] = .success(batchPlans[range].map(\.result)) }
        let evicted = heads.trim()
        if evicted > 0 { streamHeadEvictions.add(evicted, ordering: .releasing) }
        return batchOutcomes
    }

    /// Starts the batch's record list for the active segment, keeping the last
    /// batch's storage when it was the same segment's (one array less per batch),
    /// unless that storage grew large (a big import batch).
    private func startTouched() {
        if touched.count == 1, touched[0].segment === active.segment, !touched[0].isSealed,
            touched[0].records.capacity <= Self.keptTouchedRecords
        {
            touched[0].records.removeAll(keepingCapacity: true)
        } else {
            touched.removeAll(keepingCapacity: true)
            touched.append(TouchedSegment(segment: active.segment))
        }
    }

    /// The most record slots a batch's list keeps for the next batch.
    private static let keptTouchedRecords = 4096

    /// Writes the index files of the segments that batches sealed.
    private func writeAwaitingIndexFiles() {
        for segment in sealedAwaitingIndexFiles { writeIndexFile(of: segment) }
        sealedAwaitingIndexFiles.removeAll()
    }

    /// Seals the active segment, publishes the seal and writes its index file.
    private func sealActiveSegmentNow(atClose: Bool = false) {
        let sealed = active.segment
        touched.removeAll(keepingCapacity: true)
        touched.append(TouchedSegment(segment: sealed))
        do {
            try roll(nextFirstPosition: nextPosition, preallocatingNext: !atClose)
            publish(lastWritten: nextPosition - 1)
            writeIndexFile(of: sealed)
        } catch {
            fail(error)
        }
    }

    /// On a clean close: seals an active segment whose records fill at least
    /// ``LogConfiguration/sealOnCloseFraction`` of the segment size. The next open
    /// then reads its index file on first use, as for every sealed segment, instead
    /// of loading a checkpoint of all its records (most of an open's time: about
    /// 16 ns a record); the open's work no longer grows with how full the active
    /// segment was. A smaller segment gets a checkpoint, so a process that appends
    /// a little between opens does not leave a trail of small segments: every
    /// segment sealed here holds at least that fraction.
    private func sealOnCloseIfLarge() {
        let thresholdBytes = UInt64(Double(configuration.segmentSizeBytes) * LogConfiguration.sealOnCloseFraction)
        guard active.recordCount > 0, active.writeEnd >= thresholdBytes else { return }
        sealActiveSegmentNow(atClose: true)
    }

    private func publish(lastWritten: UInt64) {
        shared.state.withLock { state in
            for change in touched {
                if state.active?.segment !== change.segment {
                    state.active = ActiveEntry(segment: change.segment, index: MemoryIndex(firstPosition: change.segment.firstPosition))
                }
                for record in change.records { state.active!.index.append(record) }
                if change.isSealed, let sealed = state.active {
                    let index = SealedIndex(memory: sealed.index)
                    sealed.segment.indexWhenSealed.withLock { $0 = index }
                    state.sealed.append(SealedEntry(
                        segment: sealed.segment, lastPosition: sealed.index.lastPosition, recordsEnd: sealed.index.recordsEnd,
                        index: index))
                    state.active = nil
                }
            }
            assert(lastWritten >= state.visibleEnd, "visible end only grows")
            state.visibleEnd = lastWritten
        }
        shared.waiters.advance(to: lastWritten)
    }

    /// Writes a sealed segment's index file and swaps it in for the in-memory index.
    /// Index files are derived data: a failure leaves the in-memory index in place
    /// (the next open rebuilds the file) and does not stop the writer.
    private func writeIndexFile(of segment: Segment) {
        guard let index = shared.state.withLock({ state in
            state.sealed.last(where: { $0.segment === segment })?.index.memoryIndex
        }) else { return }
        guard let written = try? IndexWriter.write(index, of: segment, isPartial: false, configuration: configuration, cache: cache)
        else { return }
        segment.indexWhenSealed.withLock { $0 = written }
        shared.state.withLock { state in
            if let position = state.sealed.lastIndex(where: { $0.segment === segment }) { state.sealed[position].index = written }
        }
    }

    /// On close: the index file of every sealed segment whose index is held in memory,
    /// so that the next session reads it from its file. An open checks no index
    /// file: one a read found damaged or stale (left by a crash during a compaction,
    /// or one whose write failed) was rebuilt from its segment into memory, and is
    /// written back here, once. Compaction has stopped (the store waits for it before
    /// closing the writer), so each entry's segment is the file at its path.
    private func writeIndexFilesHeldInMemory() {
        let segments = shared.state.withLock { state in state.sealed.filter { $0.index.memoryIndex != nil }.map(\.segment) }
        for segment in segments { writeIndexFile(of: segment) }
    }

    /// On close: the active segment's index as a checkpoint, so the next open reads
    /// it instead of scanning the segment.
    private func writeCheckpoint() {
        guard let index = shared.state.withLock({ $0.active?.index }), index.recordCount > 0,
            index.recordCount != active.checkpointedRecordCount
        else { return }
        _ = try? IndexWriter.write(index, of: active.segment, isPartial: true, configuration: configuration, cache: cache)
    }

    private func encode(_ plans: ArraySlice<PartPlan>, timestamp: Int64) {
        for (partIndex, plan) in plans.enumerated() {
            if lastEncodedStream?.stream != plan.stream {
                lastEncodedStream = (plan.stream, StreamHash.of(plan.stream.rawValue), plan.stream.category)
            }
            let (_, hash, category) = lastEncodedStream!
            for (eventIndex, event) in plan.events.enumerated() {
                let position = plan.firstPosition + UInt64(eventIndex)
                let version = plan.firstVersion + UInt64(eventIndex)
                let offset = active.writeEnd + UInt64(buffer.count)
                let isLast = partIndex == plans.count - 1 && eventIndex == plan.events.count - 1
                let length = RecordEncoder.append(
                    event, stream: plan.stream, position: position, version: version,
                    timestampMicroseconds: timestamp, isLastOfCall: isLast, to: &buffer)
                let crc = buffer.withBytes(from: buffer.count - length, to: buffer.count) {
                    $0.loadLE(UInt32.self, at: RecordLayout.crcOffset)
                }
                withUnsafeBytes(of: crc.littleEndian) {
                    active.recordsChecksum = CRC32C.checksum($0, seed: active.recordsChecksum)
                }
                active.recordCount += 1
                touched[touched.count - 1].records.append(PendingRecord(
                    offset: offset, length: length, checksum: crc, position: position, streamHash: hash, version: version,
                    type: event.type, category: category, timestampMicroseconds: timestamp))
            }
        }
    }

    /// Writes the buffered records at the end of the active segment: through its
    /// mapping when it has one and they fit, else with `pwrite`.
    private func flush() throws {
        guard buffer.count > 0 else { return }
        if active.isTrimmed { try extendTrimmedSegment() }
        let end = active.writeEnd + UInt64(buffer.count)
        if let mapping = mappingOfActiveSegment(), end <= mapping.lengthBytes {
            try buffer.withBytes { try mapping.write($0, at: active.writeEnd) }
            statistics.withLock { $0.writesThroughMapping += 1 }
        } else {
            try buffer.withBytes { try configuration.fileSystem.write(active.segment.file, $0, at: active.writeEnd) }
        }
        active.writeEnd = end
        buffer.removeAll()
    }

    /// Pre-allocates a segment that a clean close trimmed, before anything is
    /// written to it. A failed allocation only costs the speed-up (the file grows
    /// with each write instead); the `fsync` is needed whatever happened, since a
    /// size change is durable only through it, and the writes after it rely on it.
    private func extendTrimmedSegment() throws {
        active.isTrimmed = false
        try? configuration.fileSystem.allocate(active.segment.file, sizeBytes: configuration.segmentSizeBytes)
        try configuration.fileSystem.sync(active.segment.file)
        countSync()
    }

    /// On a clean close, after the last sync and the checkpoint: cuts the active
    /// segment's pre-allocated zero tail, which the next open would otherwise read
    /// through (tens of megabytes) looking for records after a damaged one. Only
    /// zeros go: every record ends at or before `writeEnd`. Best effort: a failure
    /// leaves the tail, which an open reads as before.
    private func trimZeroTail() {
        guard configuration.preallocate, !active.isTrimmed else { return }
        // Unmapped first: nothing may touch a mapped page past the end of the file.
        activeMapping = nil
        let fileSystem = configuration.fileSystem
        guard (try? fileSystem.truncate(active.segment.file, toSizeBytes: active.writeEnd)) != nil else { return }
        try? fileSystem.sync(active.segment.file)
        active.isTrimmed = true
    }

    /// The active segment's mapping, made on first use (see ``LogConfiguration/mapsActiveSegment``).
    /// Nil when mapping is off, the file is shorter than the segment size (not
    /// pre-allocated), or mapping failed: writes then use `pwrite`.
    private func mappingOfActiveSegment() -> (any WritableMapping)? {
        guard configuration.mapsActiveSegment else { return nil }
        if let activeMapping, activeMapping.segment === active.segment { return activeMapping.mapping }
        let mapping = try? configuration.fileSystem.mapForWriting(active.segment.file, lengthBytes: configuration.segmentSizeBytes)
        activeMapping = (active.segment, mapping)
        return mapping
    }

    /// Seals the active segment (footer, truncate, fsync) and starts the next one;
    /// `preallocatingNext` false (a clean close) leaves the next one as a trimmed
    /// segment: nothing is written to it before the next open, whose first write
    /// allocates it, and the close needs no segment's worth of free space.
    private func roll(nextFirstPosition: UInt64, preallocatingNext: Bool = true) throws {
        let fileSystem = configuration.fileSystem
        // Unmapped before the file shrinks to its footer: nothing may touch a mapped
        // page past the end of the file.
        activeMapping = nil
        // The records must be durable before the footer that vouches for them: a
        // disk may persist a later write before an earlier one.
        try fileSystem.syncData(active.segment.file)
        countSync()
        let footer = SegmentFooter(
            lastPosition: nextFirstPosition - 1, recordCount: active.recordCount,
            recordsEndOffset: active.writeEnd, recordsChecksum: active.recordsChecksum)
        try footer.encoded().withUnsafeBytes { try fileSystem.write(active.segment.file, $0, at: active.writeEnd) }
        try fileSystem.truncate(active.segment.file, toSizeBytes: active.writeEnd + UInt64(SegmentFooter.size))
        try fileSystem.sync(active.segment.file)
        countSync()
        unsyncedSinceNanoseconds = nil
        touched[touched.count - 1].isSealed = true
        statistics.withLock { $0.segmentsSealed += 1 }

        let segment = try SegmentCreator.create(
            configuration: configuration, number: active.segment.number + 1, firstPosition: nextFirstPosition,
            preallocating: preallocatingNext)
        active = ActiveSegment(
            segment: segment, writeEnd: UInt64(SegmentHeader.size), recordCount: 0, recordsChecksum: 0,
            isTrimmed: configuration.preallocate && !preallocatingNext)
        touched.append(TouchedSegment(segment: segment))
    }

    private func countSync() { statistics.withLock { $0.syncs += 1 } }

    /// Stops the writer for good: every queued and later append fails, and nothing
    /// written since the last successful sync is acknowledged (fsyncgate: after a
    /// failed sync the page cache can no longer be trusted; reopen recovers from the log).
    /// Returns the failure, for the calls of the failed batch.
    @discardableResult
    private func fail(_ error: any Error) -> EventStoreError {
        let reason = (error as? SystemError)?.description ?? String(describing: error)
        let failure = EventStoreError.writerFailed(reason: reason)
        queue.lock()
        self.failure = failure
        let queued = pending
        pending = []
        let work = betweenBatches
        betweenBatches = []
        queue.unlock()
        for append in queued { append.continuation.resume(throwing: failure) }
        for item in work { item.fail(failure) }
        return failure
    }

    // MARK: Deciding a call

    /// A call's plan for one stream: where its events go and what the caller is told.
    struct PartPlan {
        let stream: StreamName
        let events: [EventData]
        let firstVersion: UInt64
        let firstPosition: UInt64
        let encodedBytes: Int

        var result: AppendResult {
            let count = UInt64(events.count)
            return AppendResult(
                nextExpectedVersion: StreamVersion(firstVersion + count - 1),
                firstPosition: GlobalPosition(firstPosition), lastPosition: GlobalPosition(firstPosition + count - 1))
        }
    }

    enum Decision {
        /// The call's plans: this range of `batchPlans`.
        case accepted(Range<Int>)
        case finished(Result<[AppendResult], EventStoreError>)
    }

    private enum PartCheck {
        case append
        case retry(AppendResult)
        case failed(EventStoreError)
    }

    private func decide(_ parts: [StreamAppend]) -> Decision {
        // One stream per call, nearly always: no arrays for the checks.
        if parts.count == 1 {
            var head = heads.head(of: parts[0].stream)!
            switch check(parts[0], head: &head) {
            case .append:
                plan(parts[0], firstVersion: head.version + 1)
                return .accepted(batchPlans.count - 1..<batchPlans.count)
            case .retry(let result): return .finished(.success([result]))
            case .failed(let error): return .finished(.failure(error))
            }
        }
        var checks: [PartCheck] = []
        checks.reserveCapacity(parts.count)
        for part in parts {
            var head = heads.head(of: part.stream)!
            checks.append(check(part, head: &head))
        }

        for check in checks { if case .failed(let error) = check { return .finished(.failure(error)) } }
        let retries = checks.compactMap { check -> AppendResult? in
            if case .retry(let result) = check { return result }
            return nil
        }
        if retries.count == parts.count { return .finished(.success(retries)) }
        if !retries.isEmpty {
            return .finished(.failure(.idempotencyConflict(
                stream: parts[0].stream, reason: "some streams of this multi-stream call were already written by an earlier call with the same event ids, others were not")))
        }

        let first = batchPlans.count
        for part in parts { plan(part, firstVersion: heads.head(of: part.stream)!.version + 1) }
        return .accepted(first..<batchPlans.count)
    }

    /// Gives an accepted part its positions and versions, moves its stream's head,
    /// and adds the plan to `batchPlans`.
    private func plan(_ part: StreamAppend, firstVersion: UInt64) {
        let count = UInt64(part.events.count)
        heads.set(StreamHead(version: firstVersion + count - 1, lastEventID: part.events[part.events.count - 1].id), for: part.stream)
        let plan = PartPlan(
            stream: part.stream, events: part.events, firstVersion: firstVersion, firstPosition: nextPosition,
            encodedBytes: RecordLayout.recordsSize(of: part))
        nextPosition += count
        batchPlans.append(plan)
    }

    /// Checks a part against its stream's rule and `head` (the cached head, which a
    /// rule's version floor may raise).
    private func check(_ part: StreamAppend, head: inout StreamHead) -> PartCheck {
        let rule = shared.rules.rule(for: part.stream)
        if rule?.isHardDeleted == true { return .failed(.streamDeleted(stream: part.stream)) }
        if let floor = rule?.versionFloor, floor > head.version {
            // A stream started at a later version (an import of a truncated stream):
            // no event is stored below it.
            head = StreamHead(version: floor, lastEventID: nil)
            heads.set(head, for: part.stream)
        }
        let current = head.version
        let expectedBase: UInt64
        switch part.expectedVersion {
        case .exact(let version): expectedBase = version.rawValue
        case .noStream: expectedBase = 0
        case .any, .streamExists:
            // No version to compare at: a retry is recognised while its call is still
            // the stream's latest, by the id of its last event.
            if head.lastEventID == part.events[part.events.count - 1].id, current >= UInt64(part.events.count) {
                return compareIDs(part, after: current - UInt64(part.events.count))
                    ?? .failed(.idempotencyConflict(
                        stream: part.stream,
                        reason: "the last event id matches the stream's last event, but the events before it differ"))
            }
            if case .streamExists = part.expectedVersion, current == 0 {
                return .failed(.wrongExpectedVersion(stream: part.stream, expected: part.expectedVersion, actual: .none))
            }
            return .append
        }
        if current == expectedBase { return .append }
        let wrong = PartCheck.failed(.wrongExpectedVersion(
            stream: part.stream, expected: part.expectedVersion, actual: StreamVersion(current)))
        guard current > expectedBase else { return wrong }
        // The stream moved past the expected version: is this a retry of the call
        // that moved it? Compare the ids written at the versions after it.
        return compareIDs(part, after: expectedBase) ?? wrong
    }

    /// Compares the call's ids with the stream's events after version `base`:
    /// all equal is a retry, some equal a conflict, none equal nil.
    private func compareIDs(_ part: StreamAppend, after base: UInt64) -> PartCheck? {
        let written: [(id: UUID, position: UInt64)]
        do {
            written = try writtenEvents(of: part.stream, after: base, count: part.events.count)
        } catch {
            // Whether this is a retry cannot be told: say so, rather than answer
            // "wrong expected version" for a call that may have been written. (The
            // writer itself goes on: only this call failed.)
            if let error = error as? SystemError {
                return .failed(.io(operation: error.operation, path: error.path, errno: error.errno, message: error.message))
            }
            return .failed(error as? EventStoreError ?? .invalidArgument("cannot tell whether this call is a retry: \(error)"))
        }
        var matches = 0
        for (index, event) in written.enumerated() where event.id == part.events[index].id { matches += 1 }
        if matches == part.events.count {
            return .retry(AppendResult(
                nextExpectedVersion: StreamVersion(base + UInt64(part.events.count)),
                firstPosition: GlobalPosition(written[0].position), lastPosition: GlobalPosition(written[written.count - 1].position)))
        }
        if matches > 0 {
            return .failed(.idempotencyConflict(
                stream: part.stream,
                reason: "\(matches) of the \(part.events.count) event ids were already written after version \(base), but not all of them"))
        }
        return nil
    }

    /// Ids and positions of up to `count` events of `stream` after version `base`:
    /// from this batch, or read back from the log (rare: only for a call naming a
    /// version older than the stream's, or a retried `.any` call).
    private func writtenEvents(of stream: StreamName, after base: UInt64, count: Int) throws -> [(id: UUID, position: UInt64)] {
        var result: [(id: UUID, position: UInt64)] = []
        let visible = try reader.readStream(stream, from: base + 1, direction: .forward, maxCount: count, includingHidden: true)
        for event in visible where event.version.rawValue == base + 1 + UInt64(result.count) {
            result.append((event.id, event.position.rawValue))
        }
        for plan in batchPlans where plan.stream == stream {
            for (index, event) in plan.events.enumerated()
            where result.count < count && plan.firstVersion + UInt64(index) == base + 1 + UInt64(result.count) {
                result.append((event.id, plan.firstPosition + UInt64(index)))
            }
        }
        return result
    }
}

/// Creates and initialises new segment files.
enum SegmentCreator {
    /// Creates segment `number` starting at `firstPosition`: exclusive create,
    /// pre-allocation (unless `preallocating` is false: a segment made at a clean
    /// close, pre-allocated by the first write after the next open), header, fsync of
    /// the file, then of the directory.
    static func create(
        configuration: LogConfiguration, number: UInt64, firstPosition: UInt64, preallocating: Bool = true
    ) throws -> Segment {
        let fileSystem = configuration.fileSystem
        let path = configuration.directory + "/" + SegmentFileName.name(firstPosition: firstPosition)
        let file = try fileSystem.open(path, mode: .createExclusive)
        let segment = Segment(file: file, number: number, firstPosition: firstPosition, fileSystem: fileSystem)
        if configuration.preallocate && preallocating {
            try fileSystem.allocate(file, sizeBytes: configuration.segmentSizeBytes)
        }
        let header = SegmentHeader(storeID: configuration.storeID, segmentNumber: number, firstPosition: firstPosition)
        try header.encoded().withUnsafeBytes { try fileSystem.write(file, $0, at: 0) }
        try fileSystem.sync(file)
        try fileSystem.syncDirectory(configuration.directory)
        return segment
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product + attoseconds / 1_000_000_000
    }
}
