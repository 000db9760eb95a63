/// A child's task events waiting to go out together, as Celery's worker sends them
/// (celery/events/dispatcher.py, `buffer_group=['task']`): one message holding a JSON list of
/// up to ``limit`` events, routing key `task.multi`, which Celery's `EventReceiver` (and so
/// Flower) reads event by event. Three events per task, each a message of its own, halved a
/// child's throughput; batched, they cost the broker one message per ``limit`` events.
///
/// A plain value: the emitter decides with it when to publish, and its tests need no broker.
struct TaskEventBatch: Sendable {
    /// The most events in one message (Celery's `buffer_limit`).
    static let limit = 24
    /// How long the first event of a batch may wait for others (Celery flushes on its event
    /// loop's next turn: a busy worker batches, an idle one sends at once).
    static let delay = Duration.milliseconds(20)
    /// The routing key of a batch.
    static let routingKey = "task.multi"

    private var bodies: [[UInt8]] = []
    /// A flush is due later (the I/O side arranged one); none more is needed until it came.
    private var flushPending = false

    /// What to do after an event was added.
    enum Next: Equatable {
        /// Publish this batch now (it is full).
        case publish([UInt8])
        /// Call ``flush()`` after ``TaskEventBatch/delay``.
        case flushLater
        /// Nothing: a flush is due already.
        case wait
    }

    /// Adds an event's JSON object.
    mutating func add(_ body: [UInt8]) -> Next {
        bodies.append(body)
        if bodies.count >= Self.limit { return .publish(take()) }
        if flushPending { return .wait }
        flushPending = true
        return .flushLater
    }

    /// The delay is over (or the child stops): the batch to publish, if any.
    mutating func flush() -> [UInt8]? {
        flushPending = false
        return bodies.isEmpty ? nil : take()
    }

    /// The events as one JSON list, and an empty batch.
    private mutating func take() -> [UInt8] {
        var list: [UInt8] = [UInt8(ascii: "[")]
        list.reserveCapacity(bodies.reduce(2) { $0 + $1.count + 1 })
        for (index, body) in bodies.enumerated() {
            if index > 0 { list.append(UInt8(ascii: ",")) }
            list += body
        }
        list.append(UInt8(ascii: "]"))
        bodies.removeAll(keepingCapacity: true)
        return list
    }
}
