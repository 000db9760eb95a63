import Synchronization

/// The deliveries of one channel that are not settled yet, so an ack can say `multiple` when
/// nothing older is outstanding.
///
/// Delivery tags grow on a channel and every delivery is registered when it arrives, before
/// any later one, so "no smaller tag outstanding" means a `multiple` ack covers exactly this
/// delivery and ones already settled. The connection thread then merges runs of such acks
/// into one frame.
final class DeliveryTracker: Sendable {
    /// Outstanding tags in arrival order, hence ascending: the oldest is the first. Settled in
    /// order (one handler at a time, the common case) each settle is O(1).
    private let outstanding = Mutex(AscendingTags())

    func received(_ tag: UInt64) { outstanding.withLock { $0.append(tag) } }

    /// Marks `tag` settled and calls `send` with whether its ack may be `multiple`, under the
    /// lock: the acks must reach the connection thread in the order they were decided, or a
    /// `multiple` ack of a later tag could overtake an earlier one's own ack, which the broker
    /// would then refuse (PRECONDITION_FAILED - unknown delivery tag) by closing the channel.
    func settle(_ tag: UInt64, send: (_ multiple: Bool) -> Void) {
        outstanding.withLock { tags in
            let oldest = tags.first == tag
            tags.remove(tag)
            send(oldest)
        }
    }

    var count: Int { outstanding.withLock { $0.count } }
}

/// Ascending delivery tags, removed from anywhere, cheapest from the front.
struct AscendingTags {
    private var tags: [UInt64] = []
    private var head = 0  // tags[..<head] are removed

    var first: UInt64? { head < tags.count ? tags[head] : nil }
    var count: Int { tags.count - head }

    mutating func append(_ tag: UInt64) {
        if head == tags.count {  // empty: reuse the storage from the start
            tags.removeAll(keepingCapacity: true)
            head = 0
        }
        tags.append(tag)
    }

    mutating func remove(_ tag: UInt64) {
        if first == tag {
            head += 1
            if head > 64, head * 2 > tags.count {  // compact now and then
                tags.removeFirst(head)
                head = 0
            }
            return
        }
        // Out of order (several handlers at once): binary search in the ascending rest.
        var (low, high) = (head, tags.count)
        while low < high {
            let mid = (low + high) / 2
            if tags[mid] < tag { low = mid + 1 } else { high = mid }
        }
        if low < tags.count, tags[low] == tag { tags.remove(at: low) }
    }
}
