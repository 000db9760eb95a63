import AMQP
import Foundation

/// Broker-side delays, for `eta`/`countdown` and retry backoff: a delayed message waits in the
/// broker, never unacknowledged in a worker (RabbitMQ's consumer timeout, prefetch slots and a
/// crash would all hurt it there).
///
/// Layout (no plugin needed, only TTL and dead-lettering):
/// - `<exchange>.wait`, a headers exchange; each wait queue `<exchange>.wait.<ms>` binds to it
///   on `warren-wait = <ms>` (not `x-…`: a headers exchange ignores `x-` headers when matching,
///   so such a binding would match every message) and has `x-message-ttl = <ms>` and
///   `x-dead-letter-exchange = <exchange>.delayed`. One TTL per queue, so messages expire in
///   order and a 1 s delay never waits behind a 5 min one (per-message TTLs on one queue would).
/// - `<exchange>.delayed`, a direct exchange bound to every work queue by its own name. A
///   delayed message is published with routing key = its destination queue, which dead-lettering
///   keeps, so it comes back to the queue it left.
///
/// Delays are rounded **down** to a ladder of steps 10 % apart; the message carries its `eta`,
/// and a worker that gets it early sends it round again for the rest, so delays converge within
/// a few milliseconds and a task never runs before its `eta`. Under 100 ms, the worker waits
/// in memory instead. Wait queues are declared on use and expire 10 minutes after their last use.
package struct DelayedDelivery: Sendable {
    let exchange: String

    /// The wait exchanges and queues of the topic exchange `exchange`.
    package init(exchange: String) { self.exchange = exchange }

    var waitExchange: String { "\(exchange).wait" }
    var delayedExchange: String { "\(exchange).delayed" }
    package func waitQueue(milliseconds: Int) -> String { "\(exchange).wait.\(milliseconds)ms" }

    /// Below this a worker waits in memory: a broker round trip costs about as much.
    package static let smallestStep = 100

    /// The longest TTL RabbitMQ takes (10 years): a longer delay waits that long, then goes
    /// round again (the message carries its `eta`).
    static let longestStep = 315_360_000_000

    /// The ladder step at or below `milliseconds` (nil below the smallest step).
    package static func step(atMost milliseconds: Int) -> Int? {
        guard milliseconds >= smallestStep else { return nil }
        let milliseconds = min(milliseconds, longestStep)
        var step = Double(smallestStep)
        while (step * 1.1).rounded(.down) <= Double(milliseconds) { step *= 1.1 }
        return Int(step.rounded(.down))
    }

    /// Every ladder step up to `milliseconds`, smallest first: the wait queues that can exist.
    package static func steps(upTo milliseconds: Int) -> [Int] {
        var steps: [Int] = []
        var step = Double(smallestStep)
        while step <= Double(milliseconds) {
            steps.append(Int(step.rounded(.down)))
            step *= 1.1
        }
        return steps
    }

    /// Declares the two exchanges and binds `queues` to the delayed exchange.
    func declare(on channel: AMQPChannel, queues: [String]) throws(AMQPError) {
        try channel.declareExchange(waitExchange, type: "headers", durable: true)
        try channel.declareExchange(delayedExchange, type: "direct", durable: true)
        for queue in queues { try channel.bindQueue(queue, to: delayedExchange, routingKey: queue) }
    }

    /// Declares the wait queue for a step (again: that also keeps it from expiring).
    func declareWaitQueue(milliseconds ms: Int, on channel: AMQPChannel) throws(AMQPError) {
        let name = waitQueue(milliseconds: ms)
        try channel.declareQueue(
            name, durable: true,
            arguments: [
                "x-message-ttl": .int64(Int64(ms)), "x-dead-letter-exchange": .string(delayedExchange),
                "x-expires": .int64(Int64(ms) + 600_000),
            ])
        try channel.bindQueue(name, to: waitExchange, routingKey: "", arguments: ["x-match": "all", "warren-wait": .string("\(ms)")])
    }

    /// Headers that send a message to the wait queue of `ms`.
    static func waitHeaders(_ headers: AMQPTable?, milliseconds ms: Int) -> AMQPTable {
        var h = headers ?? [:]
        h["warren-wait"] = .string("\(ms)")
        return h
    }
}
