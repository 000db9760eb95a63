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

    /// Marks `tag` settled; returns whether an ack of it may be sent as `multiple`.
    func settle(_ tag: UInt64) -> Bool {
        outstanding.withLock { set in
            set.remove(tag)
            return !set.contains { $0 < tag }
        }
    }

    var count: Int { outstanding.withLock { $0.count } }
}
