import AMQP
import Foundation
import Synchronization

/// Sends a child's task events (``TaskEvent``) to Celery's `celeryev` exchange while the node
/// has them on; the supervisor switches them with ``TaskEventsNotice`` lines on stdin.
///
/// Events go out unconfirmed on the reply channel, in order with the task's acks and replies
/// (`AMQPConnectionThread.publishLater`): a lost event is
/// lost, never a reason to hold a task.
final class TaskEventEmitter: Sendable {
    private let on: Atomic<Bool>
    private let clock = Mutex<UInt64>(0)
    private let node: String
    private let zone = TimeZone.current
    private static let properties = AMQPBasicProperties(
        contentType: "application/json", contentEncoding: "utf-8", deliveryMode: .transient)

    init(node: String, on: Bool) {
        self.node = node
        self.on = Atomic(on)
    }

    /// Whether task events are on.
    var isOn: Bool { on.load(ordering: .relaxed) }

    /// Switches them.
    func set(_ value: Bool) { on.store(value, ordering: .relaxed) }

    /// Publishes `event` on `io`, if events are on.
    func send(_ event: TaskEvent, io: AMQPConnectionThread) {
        guard isOn else { return }
        let tick = clock.withLock {
            $0 += 1
            return $0
        }
        let now = Date()
        let (key, body) = event.encoded(
            hostname: node, pid: getpid(), clock: tick, now: now, utcoffset: ControlState.utcoffset(zone, at: now))
        var properties = Self.properties
        properties.headers = ["hostname": .string(node)]
        io.publishLater(body, exchange: ControlNode.eventExchange, routingKey: key, properties: properties, on: 3)
    }
}
