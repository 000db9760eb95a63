internal import CRabbitMQ

extension AMQPChannel {
    /// Limits how many unacknowledged messages the broker sends (`basic.qos`).
    /// - Parameters:
    ///   - count: At most this many unacknowledged deliveries; 0 means no limit (avoid it).
    ///   - global: RabbitMQ: `false` (the default) limits each new consumer on the channel, `true`
    ///     the channel as a whole. Quorum queues support only `false`.
    public func setPrefetch(_ count: UInt16, global: Bool = false) throws(AMQPError) {
        _ = try rpc("basic.qos \(count)") { _ in amqp_basic_qos(state, id, 0, count, global ? 1 : 0) }
    }

    /// Starts a consumer on a queue (`basic.consume`). Its messages arrive as
    /// ``AMQPEvent/delivery(_:)`` from ``AMQPConnection/nextEvent(timeout:)``.
    /// - Parameters:
    ///   - queue: The queue to consume.
    ///   - consumerTag: A tag of your own; empty lets the broker choose one.
    ///   - noAck: The broker forgets each message as it sends it (unsafe: a crash loses them).
    ///     Defaults to `false`: acknowledge each delivery with ``ack(_:multiple:)``.
    ///   - exclusive: No other consumer may use the queue meanwhile.
    ///   - arguments: Consumer arguments (`x-priority`, ...).
    /// - Returns: The consumer tag.
    @discardableResult
    public func consume(
        queue: String, consumerTag: String = "", noAck: Bool = false, exclusive: Bool = false, arguments: AMQPTable = [:]
    ) throws(AMQPError) -> String {
        let ok = try rpc("basic.consume '\(queue)'") { pool in
            amqp_basic_consume(
                state, id, pool.bytes(queue), pool.bytes(consumerTag), 0, noAck ? 1 : 0, exclusive ? 1 : 0,
                pool.table(arguments))
        }
        guard let ok else { throw AMQPError(.protocolError, "basic.consume-ok missing", context: "basic.consume '\(queue)'") }
        return String(amqpBytes: ok.pointee.consumer_tag)
    }

    /// Stops a consumer. Deliveries already sent to it still arrive and must still be acknowledged.
    public func cancel(consumerTag: String) throws(AMQPError) {
        _ = try rpc("basic.cancel '\(consumerTag)'") { pool in amqp_basic_cancel(state, id, pool.bytes(consumerTag)) }
    }

    /// Fetches one message from a queue without a consumer (`basic.get`); `nil` when it is empty.
    /// Prefetch does not apply; prefer ``consume(queue:consumerTag:noAck:exclusive:arguments:)`` for a stream.
    public func get(queue: String, noAck: Bool = false) throws(AMQPError) -> AMQPDelivery? {
        try connection.ensureChannel(id)
        let context = "basic.get '\(queue)'"
        let pool = connection.pool
        let reply = amqp_basic_get(state, id, pool.bytes(queue), noAck ? 1 : 0)
        pool.recycle()
        try connection.check(reply, context, channel: id)
        defer { amqp_maybe_release_buffers(state) }
        guard reply.reply.id == AMQPMethod.basicGetOK, let decoded = reply.reply.decoded else { return nil }
        let m = decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        let exchange = String(amqpBytes: m.exchange)
        let routingKey = String(amqpBytes: m.routing_key)
        let (properties, body) = try connection.readContent(channel: id, context: context)
        return AMQPDelivery(
            channel: id, consumerTag: "", deliveryTag: m.delivery_tag, redelivered: m.redelivered != 0, exchange: exchange,
            routingKey: routingKey, properties: properties, body: body, messageCount: m.message_count)
    }

    /// Acknowledges a delivery: the broker forgets it. With `multiple`, every earlier
    /// unacknowledged delivery on the channel too.
    public func ack(_ deliveryTag: UInt64, multiple: Bool = false) throws(AMQPError) {
        try connection.ensureChannel(id)
        let status = amqp_basic_ack(state, id, deliveryTag, multiple ? 1 : 0)
        guard status == AMQP_STATUS_OK.rawValue else { throw connection.fail(libraryStatus: status, context: "basic.ack \(deliveryTag)") }
    }

    /// Refuses a delivery (`basic.nack`): back to its queue with `requeue` (the default), else
    /// dead-lettered (or dropped when the queue has no dead-letter exchange).
    public func nack(_ deliveryTag: UInt64, multiple: Bool = false, requeue: Bool = true) throws(AMQPError) {
        try connection.ensureChannel(id)
        let status = amqp_basic_nack(state, id, deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0)
        guard status == AMQP_STATUS_OK.rawValue else { throw connection.fail(libraryStatus: status, context: "basic.nack \(deliveryTag)") }
    }

    /// Refuses one delivery (`basic.reject`); see ``nack(_:multiple:requeue:)``.
    public func reject(_ deliveryTag: UInt64, requeue: Bool) throws(AMQPError) {
        try connection.ensureChannel(id)
        let status = amqp_basic_reject(state, id, deliveryTag, requeue ? 1 : 0)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw connection.fail(libraryStatus: status, context: "basic.reject \(deliveryTag)")
        }
    }
}
