// A clock that moves only when read, by a fixed step: appends get distinct,
// predictable timestamps, so time-travel tests do not depend on the machine's
// speed.
import Foundation
import Synchronization

final class FakeClock: Sendable {
    private let microseconds: Mutex<Int64>
    private let stepMicroseconds: Int64

    init(startMicroseconds: Int64 = 1_700_000_000_000_000, stepMicroseconds: Int64 = 1_000) {
        microseconds = Mutex(startMicroseconds)
        self.stepMicroseconds = stepMicroseconds
    }

    /// The next time: each call is one step later than the previous one.
    func now() -> Date {
        let value = microseconds.withLock { value in
            defer { value += stepMicroseconds }
            return value
        }
        return Date(timeIntervalSince1970: Double(value) / 1_000_000)
    }
}
