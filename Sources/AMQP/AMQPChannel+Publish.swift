internal import CRabbitMQ

extension AMQPChannel {
    /// Publishes a message.
    ///
    /// Publishing is asynchronous in AMQP: this returns once the message is written to the socket.
    /// To know that the broker has it, turn on publisher confirms (``enableConfirms()``) and wait
    /// for them (``waitForConfirms(timeout:)``), or use ``publishConfirmed(_:exchange:routingKey:mandatory:properties:timeout:)``.
    /// - Parameters:
    ///   - body: The message body.
    ///   - exchange: The exchange; `""` is the default exchange, which routes to the queue named `routingKey`.
    ///   - routingKey: The routing key.
    ///   - mandatory: Ask the broker to send the message back (``AMQPEvent/returned(_:)``) when it
    ///     matches no queue, instead of dropping it.
    ///   - properties: Content type, headers, delivery mode and the rest.
    /// - Returns: The publisher-confirm sequence number when confirms are on, else `nil`.
    /// - Throws: ``AMQPError/Code/invalidArgument`` before anything is sent, the connection
    ///   intact, when the exchange, routing key or a short-string property is over 255 bytes, a
    ///   header name is, or the properties do not fit a frame (see
    ///   ``AMQPBasicProperties/encodingProblem(frameMax:)``): librabbitmq would send the method
    ///   frame and then fail on the content header, which breaks the connection.
    @discardableResult
    public func publish(
        _ body: [UInt8], exchange: String = "", routingKey: String, mandatory: Bool = false,
        properties: AMQPBasicProperties = AMQPBasicProperties()
    ) throws(AMQPError) -> UInt64? {
        try connection.ensureChannel(id)
        // Only a failure reads it: not built for every message.
        var context: String { "basic.publish to '\(exchange.prefix(255))' with '\(routingKey.prefix(255))'" }
        if exchange.utf8.count > 255 || routingKey.utf8.count > 255 {
            throw AMQPError(.invalidArgument, "an exchange name or routing key is over 255 bytes", context: context)
        }
        if let problem = properties.encodingProblem(frameMax: connection.frameMax) {
            throw AMQPError(.invalidArgument, "the message cannot be sent: \(problem)", context: context)
        }
        let pool = connection.pool
        defer { pool.recycle() }
        var props = properties.cValue(in: pool)
        let status = body.withUnsafeBytes { raw in
            amqp_basic_publish(
                state, id, pool.bytes(exchange), pool.bytes(routingKey), mandatory ? 1 : 0, 0, &props,
                amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress)))
        }
        guard status == AMQP_STATUS_OK.rawValue else {
            // The method frame may have gone out without its content: the connection is unusable.
            throw connection.failPublish(libraryStatus: status, context: context)
        }
        guard connection.channels[id]!.confirmMode else { return nil }
        let sequence = connection.channels[id]!.nextPublishSequence
        connection.channels[id]!.nextPublishSequence += 1
        connection.channels[id]!.unconfirmed.insert(sequence)
        return sequence
    }

    /// Turns on publisher confirms (`confirm.select`): from now on the broker acknowledges each
    /// published message, and ``publish(_:exchange:routingKey:mandatory:properties:)`` returns its sequence number.
    public func enableConfirms() throws(AMQPError) {
        _ = try rpc("confirm.select") { _ in amqp_confirm_select(state, id) }
        connection.channels[id]!.confirmMode = true
    }

    /// `true` once ``enableConfirms()`` succeeded on this channel.
    public var confirmsEnabled: Bool { connection.channels[id]?.confirmMode ?? false }

    /// Sequence numbers published on this channel and not yet confirmed by the broker.
    public var unconfirmedSequences: Set<UInt64> { connection.channels[id]?.unconfirmed ?? [] }

    /// What the broker said about the messages published since the last wait.
    public struct Confirmations: Sendable {
        /// Sequence numbers the broker refused (`basic.nack`): those messages may be lost; publish again.
        public var nacked: [UInt64] = []
        /// `mandatory` messages that matched no queue (they were still acked: the broker handled them).
        public var returned: [AMQPReturnedMessage] = []
        /// `true` when nothing was refused.
        public var allAcked: Bool { nacked.isEmpty }
    }

    /// Waits until the broker has confirmed every message published on this channel.
    ///
    /// Events for other channels that arrive meanwhile (deliveries, say) are kept and returned by
    /// later ``AMQPConnection/nextEvent(timeout:)`` calls, in order.
    /// - Throws: ``AMQPError/Code/timeout`` when confirms are still missing after `timeout` (the
    ///   connection stays usable); ``AMQPError/Code/channelClosed`` if the broker closed the channel.
    public func waitForConfirms(timeout: Duration) throws(AMQPError) -> Confirmations {
        try connection.ensureChannel(id)
        guard confirmsEnabled else {
            throw AMQPError(.invalidArgument, "publisher confirms are not enabled on channel \(id); call enableConfirms() first")
        }
        var result = Confirmations()
        var others: [AMQPEvent] = []
        defer { connection.pushBack(others) }
        let deadline = ContinuousClock.now + timeout
        while !unconfirmedSequences.isEmpty {
            let left = deadline - ContinuousClock.now
            let before = unconfirmedSequences
            guard left > .zero, let event = try connection.nextEvent(timeout: left) else {
                throw AMQPError(
                    .timeout, "\(unconfirmedSequences.count) publish(es) not confirmed within \(timeout)",
                    context: "channel \(id)")
            }
            switch event {
            case .publisherAck(let ch, _, _) where ch == id:
                break  // the connection already removed it from the unconfirmed set
            case .publisherNack(let ch, _, _) where ch == id:
                // The connection settled the covered sequence numbers as it read the nack.
                result.nacked.append(contentsOf: before.subtracting(unconfirmedSequences).sorted())
            case .returned(let message) where message.channel == id:
                result.returned.append(message)
            case .channelClosed(let ch, let error) where ch == id:
                throw error
            default:
                others.append(event)
            }
        }
        return result
    }

    /// What became of one message published with confirms.
    public enum PublishOutcome: Sendable {
        /// The broker has it (in every queue it routed to).
        case acked
        /// The broker refused it; it may be lost.
        case nacked
        /// It was `mandatory` and matched no queue: here it is back.
        case returned(AMQPReturnedMessage)
    }

    /// Publishes one message and waits for the broker's confirm; turns confirms on if they are off.
    /// - Throws: ``AMQPError/Code/timeout`` when no confirm arrives within `timeout`.
    public func publishConfirmed(
        _ body: [UInt8], exchange: String = "", routingKey: String, mandatory: Bool = false,
        properties: AMQPBasicProperties = AMQPBasicProperties(), timeout: Duration = .seconds(30)
    ) throws(AMQPError) -> PublishOutcome {
        if !confirmsEnabled { try enableConfirms() }
        // Settle earlier publishes first, so this message's confirm (and return) is unambiguous.
        if !unconfirmedSequences.isEmpty { _ = try waitForConfirms(timeout: timeout) }
        try publish(body, exchange: exchange, routingKey: routingKey, mandatory: mandatory, properties: properties)
        let confirmations = try waitForConfirms(timeout: timeout)
        if let returned = confirmations.returned.first { return .returned(returned) }
        return confirmations.allAcked ? .acked : .nacked
    }
}
