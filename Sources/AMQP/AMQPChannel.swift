internal import CRabbitMQ

/// A channel of an ``AMQPConnection``: where exchanges and queues are declared, messages
/// published and consumed. Get one from ``AMQPConnection/openChannel(_:)``.
///
/// A channel is a view on its connection and follows the same threading contract: use it only
/// on the thread that drives the connection. When the broker closes a channel because of an
/// error (for example a declaration that conflicts with an existing queue), the call throws an
/// ``AMQPError`` with code ``AMQPError/Code/channelClosed`` and the broker's text; open it again with
/// `connection.openChannel(channel.id)`.
public struct AMQPChannel {
    /// The connection this channel belongs to.
    public let connection: AMQPConnection
    /// The channel number.
    public let id: UInt16

    var state: amqp_connection_state_t { connection.state }

    /// `true` while the channel is open (not closed by the broker or by ``close()``).
    public var isOpen: Bool { connection.isOpen && connection.channels[id] != nil }

    /// Closes the channel. Its consumers stop and its unacknowledged deliveries are requeued.
    public func close() throws(AMQPError) {
        try connection.ensureChannel(id)
        defer { connection.channels[id] = nil }
        _ = amqp_channel_close(state, id, 200)
        try connection.check(amqp_get_rpc_reply(state), "channel.close", channel: id)
    }

    /// Runs one synchronous request: `body` calls librabbitmq, then its reply is checked.
    /// Memory `body` returns belongs to the connection; copy it before the next call.
    func rpc<T>(_ context: @autoclosure () -> String, _ body: (ScratchPool) -> T) throws(AMQPError) -> T {
        try connection.ensureChannel(id)
        defer { connection.pool.recycle() }
        let result = body(connection.pool)
        try connection.check(amqp_get_rpc_reply(state), context(), channel: id)
        return result
    }

    // MARK: - Exchanges

    /// Declares an exchange (creates it, or checks that the existing one has the same settings).
    /// - Parameters:
    ///   - name: The exchange name.
    ///   - type: `direct`, `topic`, `fanout` or `headers`. Defaults to `direct`.
    ///   - durable: Survives a broker restart. Defaults to `true`.
    ///   - autoDelete: Deleted when its last binding goes. Defaults to `false`.
    ///   - internal: Only other exchanges may publish to it. Defaults to `false`.
    ///   - passive: Only check that it exists (404 `NOT_FOUND` closes the channel otherwise).
    ///   - arguments: E.g. `["alternate-exchange": "unrouted"]`.
    public func declareExchange(
        _ name: String, type: String = "direct", durable: Bool = true, autoDelete: Bool = false, internal: Bool = false,
        passive: Bool = false, arguments: AMQPTable = [:]
    ) throws(AMQPError) {
        _ = try rpc("exchange.declare '\(name)'") { pool in
            amqp_exchange_declare(
                state, id, pool.bytes(name), pool.bytes(type), passive ? 1 : 0, durable ? 1 : 0, autoDelete ? 1 : 0,
                `internal` ? 1 : 0, pool.table(arguments))
        }
    }

    /// Deletes an exchange. With `ifUnused`, refuses (406) while it has bindings.
    public func deleteExchange(_ name: String, ifUnused: Bool = false) throws(AMQPError) {
        _ = try rpc("exchange.delete '\(name)'") { pool in
            amqp_exchange_delete(state, id, pool.bytes(name), ifUnused ? 1 : 0)
        }
    }

    /// Binds exchange `destination` to `source`: what `source` routes with `routingKey` reaches
    /// `destination` too (a RabbitMQ extension).
    public func bindExchange(_ destination: String, to source: String, routingKey: String, arguments: AMQPTable = [:])
        throws(AMQPError)
    {
        _ = try rpc("exchange.bind '\(destination)' to '\(source)'") { pool in
            amqp_exchange_bind(state, id, pool.bytes(destination), pool.bytes(source), pool.bytes(routingKey), pool.table(arguments))
        }
    }

    /// Removes an exchange-to-exchange binding.
    public func unbindExchange(_ destination: String, from source: String, routingKey: String, arguments: AMQPTable = [:])
        throws(AMQPError)
    {
        _ = try rpc("exchange.unbind '\(destination)' from '\(source)'") { pool in
            amqp_exchange_unbind(state, id, pool.bytes(destination), pool.bytes(source), pool.bytes(routingKey), pool.table(arguments))
        }
    }

    // MARK: - Queues

    /// What `queue.declare` answers.
    public struct QueueInfo: Sendable, Hashable {
        /// The queue's name (the broker's choice when an empty name was declared).
        public var name: String
        /// Messages ready for delivery (not counting unacknowledged ones).
        public var messageCount: UInt32
        /// Active consumers.
        public var consumerCount: UInt32
    }

    /// Declares a queue (creates it, or checks that the existing one has the same settings).
    /// - Parameters:
    ///   - name: The queue name; empty lets the broker pick one (returned in ``QueueInfo/name``).
    ///   - durable: Survives a broker restart. Defaults to `true`.
    ///   - exclusive: Used only by this connection and deleted with it. Defaults to `false`.
    ///   - autoDelete: Deleted when its last consumer goes. Defaults to `false`.
    ///   - passive: Only check that it exists and read its counts; a missing queue closes the
    ///     channel with 404 `NOT_FOUND`.
    ///   - arguments: E.g. `x-queue-type`, `x-dead-letter-exchange`, `x-message-ttl`, `x-delivery-limit`.
    /// - Returns: The name and the message and consumer counts.
    @discardableResult
    public func declareQueue(
        _ name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false, passive: Bool = false,
        arguments: AMQPTable = [:]
    ) throws(AMQPError) -> QueueInfo {
        let ok = try rpc("queue.declare '\(name)'") { pool in
            amqp_queue_declare(
                state, id, pool.bytes(name), passive ? 1 : 0, durable ? 1 : 0, exclusive ? 1 : 0, autoDelete ? 1 : 0,
                pool.table(arguments))
        }
        guard let ok else { throw AMQPError(.protocolError, "queue.declare-ok missing", context: "queue.declare '\(name)'") }
        return QueueInfo(
            name: String(amqpBytes: ok.pointee.queue), messageCount: ok.pointee.message_count,
            consumerCount: ok.pointee.consumer_count)
    }

    /// Reads a queue's message and consumer counts (a passive declare).
    public func inspectQueue(_ name: String) throws(AMQPError) -> QueueInfo {
        try declareQueue(name, passive: true)
    }

    /// Binds a queue to an exchange with a routing key (a pattern, for topic exchanges).
    public func bindQueue(_ queue: String, to exchange: String, routingKey: String, arguments: AMQPTable = [:])
        throws(AMQPError)
    {
        _ = try rpc("queue.bind '\(queue)' to '\(exchange)' with '\(routingKey)'") { pool in
            amqp_queue_bind(state, id, pool.bytes(queue), pool.bytes(exchange), pool.bytes(routingKey), pool.table(arguments))
        }
    }

    /// Removes a queue binding.
    public func unbindQueue(_ queue: String, from exchange: String, routingKey: String, arguments: AMQPTable = [:])
        throws(AMQPError)
    {
        _ = try rpc("queue.unbind '\(queue)' from '\(exchange)' with '\(routingKey)'") { pool in
            amqp_queue_unbind(state, id, pool.bytes(queue), pool.bytes(exchange), pool.bytes(routingKey), pool.table(arguments))
        }
    }

    /// Removes every ready message from a queue.
    /// - Returns: How many were removed.
    @discardableResult
    public func purgeQueue(_ name: String) throws(AMQPError) -> UInt32 {
        let ok = try rpc("queue.purge '\(name)'") { pool in amqp_queue_purge(state, id, pool.bytes(name)) }
        return ok?.pointee.message_count ?? 0
    }

    /// Deletes a queue (and its messages).
    /// - Returns: How many messages it held.
    @discardableResult
    public func deleteQueue(_ name: String, ifUnused: Bool = false, ifEmpty: Bool = false) throws(AMQPError) -> UInt32 {
        let ok = try rpc("queue.delete '\(name)'") { pool in
            amqp_queue_delete(state, id, pool.bytes(name), ifUnused ? 1 : 0, ifEmpty ? 1 : 0)
        }
        return ok?.pointee.message_count ?? 0
    }
}
