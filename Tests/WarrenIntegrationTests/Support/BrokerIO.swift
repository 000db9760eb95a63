import AMQP
import Foundation
import Warren

/// Raw AMQP for tests, on a connection thread (no blocking call on the cooperative pool).
struct BrokerIO {
    let io: AMQPConnectionThread

    static func open() async throws -> BrokerIO {
        let io = try await AMQPConnectionThread(AMQPConnection.Configuration(url: IntegrationBroker.url), name: "amqp-test")
        try await io.perform { connection throws(AMQPError) in _ = try connection.openChannel(1) }  // for publish
        return BrokerIO(io: io)
    }

    func close() async { await io.close() }

    /// Publishes raw bytes (confirmed).
    func publish(_ body: [UInt8], exchange: String, routingKey: String, properties: AMQPBasicProperties = .init()) async throws {
        let outcome = try await io.publish(body, exchange: exchange, routingKey: routingKey, properties: properties, on: 1)
        guard case .acked = outcome else { throw WorkerTestError("publish not acked: \(outcome)") }
    }

    /// Declares a private reply queue and consumes it.
    func replyQueue() async throws -> String {
        try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel(2)
            let name = try channel.declareQueue("", durable: false, exclusive: true).name
            try channel.consume(queue: name, noAck: true)
            return name
        }
    }

    /// Consumes `queue` (no ack) on its own channel.
    func consume(_ queue: String, channel: UInt16 = 3) async throws {
        _ = try await io.perform { connection throws(AMQPError) in
            try connection.openChannel(channel).consume(queue: queue, noAck: true)
        }
    }

    /// The next delivery from the consumed queues, or an error after `timeout`.
    func nextDelivery(timeout: Duration = .seconds(20)) async throws -> AMQPDelivery {
        let events = io.events
        return try await withThrowingTaskGroup(of: AMQPDelivery?.self) { group in
            group.addTask {
                for await event in events { if case .delivery(let d) = event { return d } }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else { throw WorkerTestError("no delivery within \(timeout)") }
            return first
        }
    }

    /// A queue's ready message count.
    func depth(_ queue: String) async throws -> UInt32 {
        try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel()
            defer { try? channel.close() }
            return try channel.inspectQueue(queue).messageCount
        }
    }

    /// How many consumers a queue has now.
    func consumerCount(_ queue: String) async throws -> UInt32 {
        try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel()
            defer { try? channel.close() }
            return try channel.inspectQueue(queue).consumerCount
        }
    }

    /// Declares the topology of `configuration` for these task names.
    func declare(_ configuration: WarrenConfiguration, tasks: [String]) async throws {
        let topology = Topology(configuration: configuration, taskNames: tasks)
        _ = try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel()
            defer { try? channel.close() }
            return try topology.declare(on: channel)
        }
    }
}
