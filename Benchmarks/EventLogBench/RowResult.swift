// A row as reported: the contract of the table and of the JSON file.

/// One reported row (the JSON field names follow these property names).
struct RowResult: Sendable {
    let name: String
    let events: Int
    let seconds: Double
    let eventsPerSecond: Double
    let p50Microseconds: Double?
    let p99Microseconds: Double?
    let p999Microseconds: Double?
    let baselineEventsPerSecond: Double?
    let ratioToBaseline: Double?
    // Added fields (the contract allows new ones, never renamed or removed ones).
    /// Events per segment sync in the median round (append rows that sync).
    var eventsPerSync: Double? = nil
    /// The benchmark process's peak resident memory while the row ran (VmHWM,
    /// reset before the row), in bytes; nil where Linux does not report it.
    var residentMemoryBytes: Int? = nil
    /// What a reader needs to read the row right: what its fields mean if not
    /// the usual, targets met or missed, and quick-mode sizes.
    var note: String? = nil
    /// All rounds' latency samples merged, for the percentile plot (not in JSON).
    var latency: LatencyHistogram? = nil
}

/// One round of a row: the row's run and, right after it, its baseline's.
struct RoundResult: Sendable {
    let events: Int
    let seconds: Double
    let latency: LatencyHistogram?
    let baseline: BaselineMeasurement?
    var eventsPerSync: Double? = nil

    var eventsPerSecond: Double { Double(events) / seconds }
}

extension RowResult {
    /// Summarises the rounds of a row by medians, since the machine is shared and
    /// noisy: events and seconds of the round with the median events/s; the median
    /// baseline events/s of all rounds (taken on its own, not from the same round);
    /// ratio = median row / median baseline.
    ///
    /// Percentiles come from the rounds' histograms merged, not from the median
    /// round: with one to three thousand calls in a round, p99.9 of one round rests
    /// on a handful of samples.
    init(name: String, rounds: [RoundResult]) {
        precondition(!rounds.isEmpty, "a row needs at least one round")
        let medianRound = rounds.sorted { $0.eventsPerSecond < $1.eventsPerSecond }[rounds.count / 2]
        var merged: LatencyHistogram?
        for latency in rounds.compactMap(\.latency) {
            if merged == nil { merged = LatencyHistogram() }
            merged!.add(latency)
        }
        let baselines = rounds.compactMap(\.baseline).map(\.eventsPerSecond)
        let baseline = baselines.isEmpty ? nil : Self.median(baselines)
        self.init(
            name: name, events: medianRound.events, seconds: medianRound.seconds,
            eventsPerSecond: medianRound.eventsPerSecond,
            p50Microseconds: merged?.valueMicroseconds(atPercentile: 50),
            p99Microseconds: merged?.valueMicroseconds(atPercentile: 99),
            p999Microseconds: merged?.valueMicroseconds(atPercentile: 99.9),
            baselineEventsPerSecond: baseline,
            ratioToBaseline: baseline.map { medianRound.eventsPerSecond / $0 },
            eventsPerSync: medianRound.eventsPerSync, latency: merged)
    }

    /// The middle value (the mean of the two middle ones for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
