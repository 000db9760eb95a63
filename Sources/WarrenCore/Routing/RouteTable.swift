/// Which queue each registered task goes to: the queues' routes resolved against the task
/// names a worker binary knows.
///
/// A task goes to the **first** queue, in the config's order, with a pattern that matches its
/// name. The topology then binds each task name exactly (not the pattern) from the exchange to
/// its queue, so every message reaches exactly one queue. Building a table is pure: nothing
/// talks to the broker.
///
/// ```swift
/// let table = RouteTable(queues: config.queues, taskNames: ["demo.sleep", "demo.add"])
/// table.queue(for: "demo.sleep")   // "slow"
/// ```
package struct RouteTable: Sendable, Equatable {
    /// One task and the queue it goes to.
    package struct Route: Sendable, Hashable {
        /// The task name, which is also the routing key publishers use.
        package var task: String
        /// The queue that takes it.
        package var queue: String
        /// The pattern that matched (the first matching one of the queue's routes).
        package var pattern: TopicPattern

        /// Creates a route.
        package init(task: String, queue: String, pattern: TopicPattern) {
            self.task = task
            self.queue = queue
            self.pattern = pattern
        }

        /// The binding this route needs: routing key = task name, exactly.
        package var binding: QueueBinding {
            QueueBinding(queue: queue, routingKey: task)
        }
    }

    /// Every routed task, sorted by task name.
    package let routes: [Route]
    /// The registered tasks that no queue's route matches, sorted. Their messages reach the
    /// unrouted queue through the exchange's alternate exchange, unless a client publishes
    /// them straight to a queue.
    package let unrouted: [String]
    /// The registered task names that cannot be bound exactly because they contain a `*` or `#`
    /// word, an empty word or are longer than 255 bytes (see ``TopicPattern/isExactRoutingKey(_:)``),
    /// sorted. They are in neither ``routes`` nor ``unrouted``.
    package let unbindable: [String]

    /// Resolves `queues`, in order, against `taskNames`.
    ///
    /// - Parameters:
    ///   - queues: The queues with their patterns, in priority order.
    ///   - taskNames: The registered task names (duplicates are ignored).
    package init(queues: [(name: String, routes: [TopicPattern])], taskNames: some Sequence<String>) {
        var routes: [Route] = []
        var unrouted: [String] = []
        var unbindable: [String] = []
        for task in Set(taskNames).sorted() {
            guard TopicPattern.isExactRoutingKey(task) else {
                unbindable.append(task)
                continue
            }
            let match = queues.lazy.compactMap { queue in
                queue.routes.first { $0.matches(task) }.map { (queue.name, $0) }
            }.first
            if let (queue, pattern) = match {
                routes.append(Route(task: task, queue: queue, pattern: pattern))
            } else {
                unrouted.append(task)
            }
        }
        self.routes = routes
        self.unrouted = unrouted
        self.unbindable = unbindable
    }

    /// The queue `task` goes to, or `nil` when no route takes it.
    package func queue(for task: String) -> String? {
        routes.first { $0.task == task }?.queue
    }

    /// The tasks that go to `queue`, sorted.
    package func tasks(for queue: String) -> [String] {
        routes.filter { $0.queue == queue }.map(\.task)
    }

    /// The bindings the exchange needs: one per routed task.
    package var bindings: Set<QueueBinding> {
        Set(routes.map(\.binding))
    }
}
