/// A binding from Warren's exchange to a queue, for one routing key.
package struct QueueBinding: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The bound queue.
    package var queue: String
    /// The routing key, which for Warren's bindings is a task name.
    package var routingKey: String

    /// Creates a binding.
    package init(queue: String, routingKey: String) {
        self.queue = queue
        self.routingKey = routingKey
    }

    /// Orders by queue, then by routing key.
    package static func < (lhs: QueueBinding, rhs: QueueBinding) -> Bool {
        (lhs.queue, lhs.routingKey) < (rhs.queue, rhs.routingKey)
    }

    /// `routingKey -> queue`.
    package var description: String { "\(routingKey) -> \(queue)" }
}

/// What a reload changes in the exchange's bindings: the stale ones to remove and the missing
/// ones to add.
///
/// Apply ``unbind`` before ``bind``. A task that moves from one queue to another then has, for
/// an instant, no binding: a message published in that instant goes to the unrouted queue,
/// where `dlq replay` finds it. In the other order it would have two bindings for that instant,
/// and its message would be copied to both queues and run twice.
package struct BindingDiff: Sendable, Equatable {
    /// The bindings that exist but are no longer wanted, sorted.
    package let unbind: [QueueBinding]
    /// The bindings that are wanted but do not exist yet, sorted.
    package let bind: [QueueBinding]

    /// Compares the bindings that exist with those that are wanted.
    ///
    /// - Parameters:
    ///   - current: The bindings from the exchange that exist now.
    ///   - desired: The bindings the new route table needs (``RouteTable/bindings``).
    package init(current: Set<QueueBinding>, desired: Set<QueueBinding>) {
        unbind = current.subtracting(desired).sorted()
        bind = desired.subtracting(current).sorted()
    }

    /// Whether nothing changes.
    package var isEmpty: Bool { unbind.isEmpty && bind.isEmpty }
}
