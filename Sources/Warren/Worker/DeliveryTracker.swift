import Synchronization

/// The deliveries of one channel that are not settled yet, so an ack can say `multiple` when
/// nothing older is outstanding.
///
/// Delivery tags grow on a channel and every delivery is registered when it arrives, before
/// any later one, so "no smaller tag outstanding" means a `multiple` ack covers exactly this
/// delivery and ones already settled. The connection thread then merges runs of such acks
/// into one frame.
final class DeliveryTracker: Sendable {
    private let outstanding = Mutex<Set<UInt64>>([])

    func received(_ tag: UInt64) { _ = outstanding.withLock { $0.insert(tag) } }

    /// Marks `tag` settled and calls `send` with whether its ack may be `multiple`, under the
    /// lock: the acks must reach the connection thread in the order they were decided, or a
    /// `multiple` ack of a later tag could overtake an earlier one's own ack, which the broker
    /// would then refuse (PRECONDITION_FAILED - unknown delivery tag) by closing the channel.
    func settle(_ tag: UInt64, send: (_ multiple: Bool) -> Void) {
        outstanding.withLock { set in
            set.remove(tag)
            send(!set.contains { $0 < tag })
        }
    }

    var count: Int { outstanding.withLock { $0.count } }
}
