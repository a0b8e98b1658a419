// Percentiles of per-call latency without keeping the samples: a log-linear
// (HDR-style) histogram has fixed memory whatever the run length, and recording
// is one index computation and one increment inside the timed loop.

/// Latencies in nanoseconds, bucketed log-linearly.
///
/// Values below 256 ns get a bucket each; above that, every power of two is split
/// into 128 equal buckets, so a reported value is at most 1/128 (< 1%) above the
/// true one: two significant digits. Values of 2^40 ns (18 minutes) and more are
/// counted in the last bucket. Memory: 4,352 counters, 34 KiB.
struct LatencyHistogram: Sendable {
    /// log2 of the buckets per power of two above the linear range.
    private static let subBucketBits = 7
    private static let subBucketCount = 1 << subBucketBits
    /// Values below this are recorded exactly.
    private static let linearLimit = 1 << (subBucketBits + 1)
    /// Values at or above this share the last bucket.
    static let trackableLimitNanoseconds: UInt64 = 1 << 40
    private static let bucketCount = bucketIndex(trackableLimitNanoseconds - 1) + 1

    private var counts = [UInt64](repeating: 0, count: LatencyHistogram.bucketCount)
    private(set) var count: UInt64 = 0
    private(set) var maxNanoseconds: UInt64 = 0

    init() {}

    /// Counts one sample.
    mutating func record(nanoseconds: UInt64) {
        let value = min(nanoseconds, Self.trackableLimitNanoseconds - 1)
        counts[Self.bucketIndex(value)] &+= 1
        count &+= 1
        if value > maxNanoseconds { maxNanoseconds = value }
    }

    /// Adds every sample of `other` (merging the histograms of concurrent appenders or of rounds).
    mutating func add(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] &+= other.counts[index] }
        count &+= other.count
        maxNanoseconds = max(maxNanoseconds, other.maxNanoseconds)
    }

    /// The smallest recorded value at or below which `percent` of the samples lie,
    /// reported as the top of its bucket (as HdrHistogram does), or nil when empty.
    func valueNanoseconds(atPercentile percent: Double) -> UInt64? {
        guard count > 0 else { return nil }
        precondition((0...100).contains(percent), "percentile \(percent) is outside 0...100")
        let rank = max(1, UInt64((percent / 100 * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, bucketSamples) in counts.enumerated() where bucketSamples > 0 {
            seen += bucketSamples
            if seen >= rank { return min(Self.highestValue(inBucket: index), maxNanoseconds) }
        }
        return maxNanoseconds
    }

    /// `valueNanoseconds(atPercentile:)` in microseconds.
    func valueMicroseconds(atPercentile percent: Double) -> Double? {
        valueNanoseconds(atPercentile: percent).map { Double($0) / 1_000 }
    }

    /// Below `linearLimit` the value itself; above, 128 buckets per power of two,
    /// laid out so that the index grows with the value: shift * 128 + top 8 bits.
    static func bucketIndex(_ value: UInt64) -> Int {
        guard value >= UInt64(linearLimit) else { return Int(value) }
        let shift = (UInt64.bitWidth - value.leadingZeroBitCount) - (subBucketBits + 1)
        return shift * subBucketCount + Int(value >> UInt64(shift))
    }

    /// The largest value that `bucketIndex` maps to `index`.
    static func highestValue(inBucket index: Int) -> UInt64 {
        guard index >= linearLimit else { return UInt64(index) }
        let shift = index / subBucketCount - 1
        let top = UInt64(index - shift * subBucketCount)
        return ((top + 1) << UInt64(shift)) - 1
    }
}
