// A mutex with a condition variable, for the one place a dedicated thread must
// sleep until work arrives: the writer's queue. (Synchronization.Mutex has no
// condition variable; Foundation's NSCondition would work but hides the timed
// wait's clock.)
import Glibc

/// A pthread mutex and condition variable pair. The writer thread waits on it;
/// appenders signal it. Never held across I/O.
final class ConditionLock: @unchecked Sendable {
    // Heap-allocated because pthread objects must not move in memory.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` with the mutex held.
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Wakes one waiter. Call with the mutex held.
    func signal() { pthread_cond_signal(condition) }

    /// Wakes every waiter. Call with the mutex held.
    func broadcast() { pthread_cond_broadcast(condition) }

    /// Sleeps until signalled. Call with the mutex held; spurious wake-ups happen,
    /// so callers re-check their predicate in a loop.
    func wait() { pthread_cond_wait(condition, mutex) }

    /// Sleeps until signalled or until the monotonic clock reaches `deadlineNanoseconds`.
    func wait(untilMonotonicNanoseconds deadlineNanoseconds: UInt64) {
        var deadline = timespec(
            tv_sec: Int(deadlineNanoseconds / 1_000_000_000), tv_nsec: Int(deadlineNanoseconds % 1_000_000_000))
        pthread_cond_timedwait(condition, mutex, &deadline)
    }
}

/// Clocks, read without Foundation on the hot path.
enum Clock {
    /// Monotonic nanoseconds (CLOCK_MONOTONIC): for deadlines and latency.
    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Lets another thread run on this core (a spinning thread's courtesy).
    static func yieldProcessor() { sched_yield() }

    /// Blocks the calling thread (not for the cooperative pool's hot paths).
    static func sleep(nanoseconds: UInt64) {
        var remaining = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        while true {
            var request = remaining
            if nanosleep(&request, &remaining) == 0 || errno != EINTR { return }
        }
    }

    /// Wall-clock microseconds since 1970 (CLOCK_REALTIME): event timestamps.
    static func wallMicroseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec / 1_000)
    }
}
