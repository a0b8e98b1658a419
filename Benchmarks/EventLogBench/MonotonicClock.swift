// One clock for every timed loop: CLOCK_MONOTONIC through the vDSO costs tens of
// nanoseconds and allocates nothing, so timing each append call does not distort it.
import Glibc

/// Reads of the monotonic clock, in nanoseconds since an arbitrary start.
enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point (boot). The corresponding C function is `clock_gettime`.
    static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// Seconds between two readings.
    static func seconds(from start: UInt64, to end: UInt64) -> Double {
        Double(end &- start) / 1_000_000_000
    }
}
