import AMQP
import Foundation
import Synchronization

/// Sends a child's task events (``TaskEvent``) to Celery's `celeryev` exchange while the node
/// has them on; the supervisor switches them with ``TaskEventsNotice`` lines on stdin. Events go
/// out in batches (``TaskEventBatch``), as Celery's own worker sends them.
///
/// Events go out unconfirmed on the reply channel, in order with the task's acks and replies
/// (`AMQPConnectionThread.publishLater`): a lost event is lost, never a reason to hold a task.
final class TaskEventEmitter: Sendable {
    private let on: Atomic<Bool>
    /// The Lamport clock, and Celery's `utcoffset` with when it was last worked out (once a
    /// minute: it changes only with daylight saving time, and costs a time-zone lookup).
    private let state = Mutex<(clock: UInt64, utcoffset: Int, checked: ContinuousClock.Instant?)>((0, 0, nil))
    private let pid = getpid()
    private let batch = Mutex(TaskEventBatch())
    private let node: String
    private let zone = TimeZone.current
    private let properties: AMQPBasicProperties

    init(node: String, on: Bool) {
        self.node = node
        self.on = Atomic(on)
        properties = AMQPBasicProperties(
            contentType: "application/json", contentEncoding: "utf-8", headers: ["hostname": .string(node)], deliveryMode: .transient)
    }

    /// Whether task events are on.
    var isOn: Bool { on.load(ordering: .relaxed) }

    /// Switches them.
    func set(_ value: Bool) { on.store(value, ordering: .relaxed) }

    /// Queues `event` for `io`, if events are on: it goes out with the others of its batch.
    func send(_ event: TaskEvent, io: AMQPConnectionThread) {
        guard isOn else { return }
        let now = Date()
        let (tick, utcoffset) = state.withLock { s in
            s.clock += 1
            let instant = ContinuousClock.now
            if s.checked.map({ instant - $0 > .seconds(60) }) ?? true {
                s.utcoffset = ControlState.utcoffset(zone, at: now)
                s.checked = instant
            }
            return (s.clock, s.utcoffset)
        }
        let (_, body) = event.encoded(hostname: node, pid: pid, clock: tick, now: now, utcoffset: utcoffset)
        switch batch.withLock({ $0.add(body) }) {
        case .publish(let list): publish(list, io: io)
        case .flushLater:
            Task {
                try? await Task.sleep(for: TaskEventBatch.delay)
                self.flush(io: io)
            }
        case .wait: break
        }
    }

    /// Sends the events waiting in the batch now (before the connection closes).
    func flush(io: AMQPConnectionThread) {
        if let list = batch.withLock({ $0.flush() }) { publish(list, io: io) }
    }

    private func publish(_ list: [UInt8], io: AMQPConnectionThread) {
        io.publishLater(list, exchange: ControlNode.eventExchange, routingKey: TaskEventBatch.routingKey, properties: properties, on: 3)
    }
}
