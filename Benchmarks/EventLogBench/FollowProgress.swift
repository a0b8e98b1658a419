// How a live subscriber in a row learns where to stop: the appenders decide the
// last position only when their time is up, and by then the subscriber may have
// read it already and be parked waiting for a next event that never comes.
import Synchronization

/// The position a subscriber has received through, and the one it should stop at.
///
/// Both sides store before they load (sequentially consistent), so at least one
/// of them sees the other's store: either the subscriber sees the target and
/// stops by itself, or ``stop(at:)`` sees it has everything and says to cancel it.
final class FollowProgress: Sendable {
    private let targetPosition = Atomic<UInt64>(.max)
    private let receivedPosition = Atomic<UInt64>(0)

    /// The subscriber received the event at `position`: returns true once that is
    /// the last one to wait for.
    func received(_ position: UInt64) -> Bool {
        receivedPosition.store(position, ordering: .sequentiallyConsistent)
        return position >= targetPosition.load(ordering: .sequentiallyConsistent)
    }

    /// The appenders are done and `lastPosition` is the log's last event: returns
    /// true when the subscriber has received it already, so it should be
    /// cancelled (it may be parked waiting for the next event).
    func stop(at lastPosition: UInt64) -> Bool {
        targetPosition.store(lastPosition, ordering: .sequentiallyConsistent)
        return receivedPosition.load(ordering: .sequentiallyConsistent) >= lastPosition
    }

    /// The last position the subscriber received (0 before its first event).
    var position: UInt64 { receivedPosition.load(ordering: .sequentiallyConsistent) }
}
