import AMQP
import Foundation
import WarrenCore

/// What Warren declares on the broker for a configuration and a set of registered tasks:
///
/// - the task exchange (topic, durable), whose alternate exchange sends what no binding
///   matches to the unrouted queue (so an unknown task name is kept, not dropped);
/// - every configured queue (durable; `x-queue-type` as configured), the dead-letter queue and
///   the unrouted queue;
/// - one **exact** binding per registered task, from the exchange to the first queue whose route
///   matches it (first match wins, docs/routing.md);
/// - a one-message record of the bindings it made (`<exchange>.bindings`), because AMQP cannot
///   list bindings: on the next declaration the bindings no longer wanted are removed.
///
/// Declaring twice is harmless. Run it from one connection at a time (the supervisor).
package struct Topology: Sendable {
    /// The configuration declared.
    package let configuration: WarrenConfiguration
    /// The routes resolved against the registered task names.
    package let routes: RouteTable

    /// The topology for `configuration` and the tasks named.
    package init(configuration: WarrenConfiguration, taskNames: some Sequence<String>) {
        self.configuration = configuration
        self.routes = configuration.routeTable(forTasks: taskNames)
    }

    /// The queue that records the bindings Warren made on the exchange.
    package var bindingRecordQueue: String { "\(configuration.exchange).bindings" }

    /// The alternate exchange of the task exchange (fanout to the unrouted queue).
    package var alternateExchange: String { configuration.unroutedQueue }

    /// Declares everything and rebinds. Returns what changed in the bindings.
    @discardableResult
    package func declare(on channel: AMQPChannel) throws(AMQPError) -> BindingDiff {
        let c = configuration
        try channel.declareExchange(alternateExchange, type: "fanout", durable: true)
        try channel.declareQueue(c.unroutedQueue, durable: true)
        try channel.bindQueue(c.unroutedQueue, to: alternateExchange, routingKey: "")
        try channel.declareExchange(
            c.exchange, type: "topic", durable: true, arguments: ["alternate-exchange": .string(alternateExchange)])
        try channel.declareQueue(c.deadLetterQueue, durable: true)
        for queue in c.queues {
            try channel.declareQueue(queue.name, durable: true, arguments: Self.arguments(for: queue))
        }
        try DelayedDelivery(exchange: c.exchange).declare(on: channel, queues: c.queues.map(\.name))

        let desired = routes.bindings
        let current = try readBindingRecord(on: channel)
        let diff = BindingDiff(current: current ?? [], desired: desired)
        // Unbind first: a task moving between queues briefly lands in the unrouted queue (where
        // it is kept and can be replayed) rather than being bound to both and run twice.
        for b in diff.unbind {
            try channel.unbindQueue(b.queue, from: c.exchange, routingKey: b.routingKey)
        }
        // Bind every desired binding, not only new ones: binding is idempotent and this also
        // repairs a binding deleted by hand.
        for b in desired.sorted() {
            try channel.bindQueue(b.queue, to: c.exchange, routingKey: b.routingKey)
        }
        if current != desired { try writeBindingRecord(desired, on: channel) }
        return diff
    }

    /// The declaration arguments of a configured queue: only what cannot be set otherwise.
    ///
    /// No `x-dead-letter-*` arguments on purpose: Celery clients that publish straight to a
    /// queue redeclare it with no arguments, and RabbitMQ refuses a declaration whose arguments
    /// differ (PRECONDITION_FAILED). Messages the broker itself expires while queued (Celery's
    /// `expiration` for `expires`) reach the dead-letter queue through a policy instead, which
    /// RabbitMQ recommends anyway and which can change without redeclaring: see ``deadLetterPolicyCommand``.
    static func arguments(for queue: QueueConfig) -> AMQPTable {
        var args: AMQPTable = [:]
        if queue.type == .quorum { args["x-queue-type"] = "quorum" }
        return args
    }

    /// The `rabbitmqctl` command that makes the broker dead-letter what expires in the work queues.
    package var deadLetterPolicyCommand: String {
        let names = configuration.queues.map { NSRegularExpression.escapedPattern(for: $0.name) }.joined(separator: "|")
        return "rabbitmqctl set_policy --apply-to queues warren-dead-letter '^(\(names))$' "
            + "'{\"dead-letter-exchange\":\"\",\"dead-letter-routing-key\":\"\(configuration.deadLetterQueue)\"}'"
    }

    private func declareRecordQueue(on channel: AMQPChannel) throws(AMQPError) {
        try channel.declareQueue(
            bindingRecordQueue, durable: true,
            arguments: ["x-max-length": .int32(1), "x-overflow": "drop-head"])
    }

    /// The bindings recorded by the last declaration; `nil` when none was recorded.
    package func readBindingRecord(on channel: AMQPChannel) throws(AMQPError) -> Set<QueueBinding>? {
        try declareRecordQueue(on: channel)
        guard let record = try channel.get(queue: bindingRecordQueue, noAck: false) else { return nil }
        try channel.nack(record.deliveryTag, requeue: true)  // leave it for the next reader
        guard let json = try? JSONValue(parsing: record.body), case .array(let items) = json else { return nil }
        var bindings = Set<QueueBinding>()
        for item in items {
            guard case .array(let pair) = item, pair.count == 2, case .string(let q) = pair[0], case .string(let k) = pair[1]
            else { continue }
            bindings.insert(QueueBinding(queue: q, routingKey: k))
        }
        return bindings
    }

    private func writeBindingRecord(_ bindings: Set<QueueBinding>, on channel: AMQPChannel) throws(AMQPError) {
        let json = JSONValue.array(bindings.sorted().map { .array([.string($0.queue), .string($0.routingKey)]) })
        let outcome = try channel.publishConfirmed(
            json.serialized(), routingKey: bindingRecordQueue,
            properties: AMQPBasicProperties(contentType: "application/json", deliveryMode: .persistent))
        if case .nacked = outcome {
            throw AMQPError(.protocolError, "the broker refused the binding record", context: bindingRecordQueue)
        }
    }
}
