import AMQP
import Foundation
import WarrenCore

/// Where `dlq replay` sends a dead letter: back through the routes, as a publisher would.
///
/// A replayed message goes to the task exchange with routing key = its task name (see
/// ``DeadLetter/task``), so the bindings choose its queue exactly as for a new task. Its body
/// and properties are unchanged; its headers are cleaned (``replayHeaders(_:now:)``) so that
/// it starts again as a fresh first attempt.
///
/// A task name that no binding knows would only come back to the unrouted queue through the
/// exchange's alternate exchange (a `mandatory` publish cannot tell, as the alternate exchange
/// takes it). The planner therefore checks the name against the bindings the workers made,
/// which AMQP cannot list but Warren records in `<exchange>.bindings` when it declares the
/// topology, and skips (and reports) the message when its task is not bound. The record is
/// that of the last worker binary that declared the topology on this exchange.
package struct DeadLetterReplay: Sendable {
    /// The task exchange.
    package let exchange: String
    /// Bound task names and the queue each is bound to.
    package let boundTasks: [String: String]

    /// A planner for `exchange`, whose bindings are `bindings` (routing key = task name).
    package init(exchange: String, bindings: some Sequence<QueueBinding>) {
        self.exchange = exchange
        var bound: [String: String] = [:]
        for binding in bindings { bound[binding.routingKey] = binding.queue }
        self.boundTasks = bound
    }

    /// What to do with one dead letter.
    package enum Plan: Sendable {
        /// Publish it to `route` with `properties`; the bindings take it to `queue`.
        case republish(route: DeadLetterRoute, properties: AMQPBasicProperties, queue: String)
        /// Leave it where it is, for this reason.
        case skip(String)
    }

    /// The plan for `letter`.
    /// - Parameter now: The time an `eta` is compared with.
    package func plan(for letter: DeadLetter, now: Date = Date()) -> Plan {
        guard let task = letter.task, !task.isEmpty else {
            return .skip("no task name in its headers or routing key")
        }
        guard let queue = boundTasks[task] else {
            return .skip("task \(task) has no binding on exchange '\(exchange)': it would only land in the unrouted queue again")
        }
        var properties = letter.delivery.properties
        properties.headers = Self.replayHeaders(properties.headers, now: now)
        return .republish(route: DeadLetterRoute(exchange: exchange, routingKey: task), properties: properties, queue: queue)
    }

    /// The headers of a replayed message: Warren's dead-letter and retry bookkeeping
    /// (`x-warren-*`, `warren-wait`) and RabbitMQ's (`x-death`, `x-first-death-*`,
    /// `x-last-death-*`) removed, `retries` back to 0 when present, and an `eta` already past
    /// removed. Everything else, in order, as it was.
    /// - Returns: `nil` when `headers` is `nil`.
    package static func replayHeaders(_ headers: AMQPTable?, now: Date = Date()) -> AMQPTable? {
        guard let headers else { return nil }
        var kept: [(String, AMQPValue)] = []
        for (key, value) in headers.entries {
            if key.hasPrefix("x-warren-") || key == "warren-wait" || key == "x-death" || key.hasPrefix("x-first-death-")
                || key.hasPrefix("x-last-death-")
            {
                continue
            }
            if key == "eta", let text = value.stringValue, let eta = CeleryTime.parse(text), eta <= now { continue }
            kept.append((key, key == "retries" && !value.isVoid ? TaskMessage.integer(0) : value))
        }
        return AMQPTable(kept)
    }
}
