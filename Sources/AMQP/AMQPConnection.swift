internal import CRabbitMQ

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif

/// One connection to an AMQP 0-9-1 broker (RabbitMQ), over TCP or TLS.
///
/// ## Threading contract
/// librabbitmq is not thread-safe: a connection, and every channel on it, must be used by **one
/// thread at a time**, and blocking calls on it must not run on Swift's cooperative thread pool.
/// `AMQPConnection` is therefore not `Sendable`: create it on the thread that drives it and keep it
/// there. Other threads talk to that thread instead, and wake it with an ``AMQPWaker`` while it
/// waits for the broker in ``waitForInput(timeout:waker:)``. ``AMQPConnectionThread`` packages
/// exactly that (a thread, a command queue, a waker, events as an `AsyncStream`) for async code.
///
/// ## Heartbeats
/// librabbitmq has no background thread: heartbeats are sent and checked only inside its calls.
/// The owning thread must call ``nextEvent(timeout:)`` (or any other method) at least every half
/// heartbeat interval; ``waitForInput(timeout:waker:)`` never waits longer than that.
///
/// ## Errors
/// Every failure is an ``AMQPError``. A channel closed by the broker (``AMQPError/Code/channelClosed``)
/// can be reopened with ``openChannel(_:)``; a dead connection (``AMQPError/Code/connectionClosed``)
/// fails every later call at once, without touching the network.
///
/// ```swift
/// let connection = try AMQPConnection(AMQPConnection.Configuration(url: "amqp://guest:guest@127.0.0.1:5672/%2F"))
/// let channel = try connection.openChannel()
/// try channel.declareQueue("jobs", durable: true)
/// try channel.publish(Array("hello".utf8), routingKey: "jobs")
/// ```
public final class AMQPConnection {
    /// What the connection was opened with.
    public let configuration: Configuration
    /// Heartbeat interval agreed with the broker (`.zero` when off).
    public private(set) var heartbeat: Duration = .zero
    /// Largest frame agreed with the broker, in bytes.
    public private(set) var frameMax: Int = 0
    /// Most channels agreed with the broker.
    public private(set) var channelMax: Int = 0
    /// The broker's properties (`product`, `version`, `capabilities`, `cluster_name`, ...).
    public private(set) var serverProperties: AMQPTable = [:]

    let state: amqp_connection_state_t
    let pool = ScratchPool()
    /// Why the connection is unusable, once it is.
    private(set) var failure: AMQPError?
    private var destroyed = false
    var channels: [UInt16: ChannelState] = [:]
    private var pending = EventQueue()
    private var lastChannelID: UInt16 = 0

    /// Per-channel bookkeeping: publisher-confirm sequence numbers not yet confirmed.
    struct ChannelState {
        var confirmMode = false
        var nextPublishSequence: UInt64 = 1
        var unconfirmed: Set<UInt64> = []
    }

    /// Opens the socket (TCP or TLS), performs the AMQP handshake and logs in (SASL PLAIN).
    ///
    /// - Throws: ``AMQPError`` with ``AMQPError/Code/connectionFailed`` (nothing listens, host
    ///   unreachable, timeout), ``AMQPError/Code/tls`` (certificate files unreadable, broker not
    ///   trusted) or ``AMQPError/Code/authenticationFailed`` (wrong user, password or vhost).
    public init(_ configuration: Configuration) throws(AMQPError) {
        guard let state = amqp_new_connection() else {
            throw AMQPError(.library, "librabbitmq could not allocate a connection")
        }
        self.state = state
        self.configuration = configuration
        try open()
    }

    deinit {
        if !destroyed { amqp_destroy_connection(state) }
    }

    /// `true` until the connection is closed or found dead.
    public var isOpen: Bool { failure == nil && !destroyed }

    /// Closes the connection politely (`connection.close`, waiting for the broker's answer up to
    /// the RPC timeout) and frees it. Unacknowledged deliveries go back to their queues. Safe to
    /// call more than once and on a dead connection.
    public func close() {
        guard !destroyed else { return }
        if failure == nil {
            _ = amqp_connection_close(state, 200)
            failure = AMQPError(.connectionClosed, "the connection was closed by this client")
        }
        amqp_destroy_connection(state)
        destroyed = true
    }

    // MARK: - Opening

    /// Whether `host` is an IPv4 or IPv6 address rather than a name.
    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    private func open() throws(AMQPError) {
        let c = configuration
        let target = "\(c.host):\(c.port)"
        let socket: OpaquePointer?
        if let tls = c.tls {
            socket = amqp_ssl_socket_new(state)
            guard let socket else { throw AMQPError(.tls, "librabbitmq could not create a TLS socket") }
            amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
            amqp_ssl_socket_set_verify_hostname(socket, tls.verifyHostname ? 1 : 0)
            if tls.verifyHostname && Self.isIPAddress(c.host) {
                // librabbitmq matches DNS names only: let OpenSSL match the certificate's IP SANs.
                amqp_ssl_socket_set_verify_hostname(socket, 0)
                guard crabbitmq_ssl_expect_ip(amqp_ssl_socket_get_context(socket), c.host) == 1 else {
                    throw AMQPError(.tls, "cannot set up verification of the IP address \(c.host)")
                }
            }
            if let ca = tls.caCertificatePath {
                let status = amqp_ssl_socket_set_cacert(socket, ca)
                guard status == AMQP_STATUS_OK.rawValue else {
                    throw AMQPError(
                        .tls, "cannot load the CA certificate '\(ca)': \(amqpStatusText(status))",
                        libraryStatus: status)
                }
            }
            if let cert = tls.certificatePath {
                guard let key = tls.keyPath else {
                    throw AMQPError(.tls, "the client certificate '\(cert)' needs its key (keyfile)")
                }
                let status = amqp_ssl_socket_set_key(socket, cert, key)
                guard status == AMQP_STATUS_OK.rawValue else {
                    throw AMQPError(
                        .tls, "cannot load the client certificate '\(cert)' or key '\(key)': \(amqpStatusText(status))",
                        libraryStatus: status)
                }
            }
        } else {
            socket = amqp_tcp_socket_new(state)
            guard socket != nil else { throw AMQPError(.library, "librabbitmq could not create a TCP socket") }
        }

        var timeout = timeval(c.connectTimeout)
        errno = 0
        let status = amqp_socket_open_noblock(socket, c.host, Int32(c.port), &timeout)
        if status != AMQP_STATUS_OK.rawValue {
            let osError = errno
            var why = amqpStatusText(status)
            // librabbitmq's non-blocking connect reads the socket's error itself; errno is only
            // meaningful for failures before that (name resolution, socket creation).
            if osError != 0, osError != EINPROGRESS, let text = strerror(osError) { why += ": " + String(cString: text) }
            let isTLS = status <= -0x0200 && status > -0x0300  // AMQP_STATUS_SSL_* range
            if isTLS {
                throw AMQPError(.tls, "TLS handshake with \(target) failed: \(why)", libraryStatus: status)
            }
            throw AMQPError(.connectionFailed, "cannot connect to \(target): \(why)", libraryStatus: status)
        }
        _ = amqp_set_handshake_timeout(state, &timeout)
        if var rpc = c.rpcTimeout.map(timeval.init) {
            _ = amqp_set_rpc_timeout(state, &rpc)
        }

        var properties = c.clientProperties
        if properties["product"] == nil { properties["product"] = "Warren AMQP (Swift, librabbitmq)" }
        // Without these capabilities RabbitMQ silently drops a consumer whose queue is deleted
        // (no basic.cancel) and never says that it blocks publishers. librabbitmq merges this
        // table with its own defaults (authentication_failure_close).
        var capabilities = properties["capabilities"]?.tableValue ?? [:]
        for name in ["consumer_cancel_notify", "connection.blocked", "publisher_confirms", "basic.nack", "per_consumer_qos"]
        where capabilities[name] == nil {
            capabilities[name] = .bool(true)
        }
        properties["capabilities"] = .table(capabilities)
        if let name = c.connectionName { properties["connection_name"] = .string(name) }
        var table = pool.table(properties)
        defer { pool.recycle() }
        let heartbeatSeconds = Int32(clamping: c.heartbeat.components.seconds)
        let reply = crabbitmq_login_plain(
            state, c.virtualHost, Int32(c.channelMax), Int32(c.frameMax), heartbeatSeconds, &table, c.user,
            c.password)
        if var error = self.error(from: reply, context: "login to \(target) vhost '\(c.virtualHost)' as '\(c.user)'", channel: 0) {
            if let close = error.serverClose, close.replyCode == 403 || close.replyCode == 530 {
                error.code = .authenticationFailed
            } else if error.libraryStatus == AMQP_STATUS_CONNECTION_CLOSED.rawValue
                || error.libraryStatus == AMQP_STATUS_SOCKET_CLOSED.rawValue
            {
                error.code = .authenticationFailed
                error.message = "the broker closed the connection during login (wrong user, password or vhost?)"
            }
            throw error
        }
        heartbeat = .seconds(Int(amqp_get_heartbeat(state)))
        frameMax = Int(amqp_get_frame_max(state))
        channelMax = Int(amqp_get_channel_max(state))
        if let server = amqp_get_server_properties(state) { serverProperties = AMQPTable(server.pointee) }
    }

    // MARK: - Channels

    /// Opens a channel. With no number, the lowest number not in use is taken.
    ///
    /// A channel closed by the broker (after an error on it) can be opened again with its number.
    /// How many channel numbers ``openChannel(_:)`` goes round before it takes higher ones.
    static let recycledChannels = 32

    public func openChannel(_ number: UInt16? = nil) throws(AMQPError) -> AMQPChannel {
        try ensureOpen()
        let id: UInt16
        if let number {
            id = number
        } else {
            // Take the next number after the last one handed out, not the lowest free one: frames
            // for a channel just closed (a late publisher confirm, say) may still be queued in
            // librabbitmq, and would be read as the reused channel's. But go round the first
            // ``recycledChannels`` numbers only (all of them only when those are busy):
            // librabbitmq keeps a memory pool for every channel number ever used, for the life
            // of the connection, so walking all 2047 numbers grew a long-lived connection that
            // opens a channel now and then (the supervisor's queue probe) by ~15 MiB.
            let limit = channelMax == 0 ? Int(UInt16.max) : channelMax
            let round = min(limit, Self.recycledChannels)
            let after = Int(lastChannelID)
            let near = (0..<round).lazy.map { UInt16((after + $0) % round + 1) }  // after+1, ..., round, 1, ...
            let far = (0..<limit).lazy.map { UInt16((after + $0) % limit + 1) }
            guard let free = near.first(where: { self.channels[$0] == nil }) ?? far.first(where: { self.channels[$0] == nil }) else {
                throw AMQPError(.invalidArgument, "all \(limit) channels are in use")
            }
            id = free
            lastChannelID = free
        }
        guard channels[id] == nil else {
            throw AMQPError(.invalidArgument, "channel \(id) is already open")
        }
        _ = amqp_channel_open(state, id)
        try check(amqp_get_rpc_reply(state), "channel.open", channel: id)
        channels[id] = ChannelState()
        return AMQPChannel(connection: self, id: id)
    }

    /// The open channel with this number.
    public func channel(_ number: UInt16) throws(AMQPError) -> AMQPChannel {
        try ensureChannel(number)
        return AMQPChannel(connection: self, id: number)
    }

    // MARK: - Events

    /// Waits up to `timeout` for the next thing the broker sends that is not a reply: a delivery,
    /// a publisher confirm, a returned message, a cancelled consumer, or a closed channel.
    ///
    /// Heartbeats are sent and checked while it waits. `nil` timeout waits indefinitely; `.zero`
    /// only reads what has already arrived.
    /// - Returns: the event, or `nil` when the time ran out.
    /// - Throws: ``AMQPError/Code/connectionClosed`` when the broker closed the connection or it died
    ///   (socket error, missed heartbeats).
    public func nextEvent(timeout: Duration?) throws(AMQPError) -> AMQPEvent? {
        if let event = pending.pop() { return event }
        try ensureOpen()
        defer { amqp_maybe_release_buffers(state) }
        while true {
            var frame = amqp_frame_t()
            var tv = timeout.map(timeval.init) ?? timeval()
            let status = withUnsafeMutablePointer(to: &tv) { p in
                amqp_simple_wait_frame_noblock(state, &frame, timeout == nil ? nil : p)
            }
            if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
            if status != AMQP_STATUS_OK.rawValue { throw fail(libraryStatus: status, context: "waiting for the broker") }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }  // stray content: ignore
            if let event = try event(from: frame) { return event }
        }
    }

    /// `true` when events or bytes are already buffered, so ``nextEvent(timeout:)`` with `.zero`
    /// has work without waiting on the socket.
    public var hasBufferedInput: Bool {
        !pending.isEmpty || (!destroyed && (amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0))
    }

    /// The socket's file descriptor, for callers who run their own `poll`/`epoll`.
    public var socketDescriptor: Int32 { destroyed ? -1 : amqp_get_sockfd(state) }

    /// What ``waitForInput(timeout:waker:)`` saw.
    public struct Readiness: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The broker sent something (or it was already buffered): call ``AMQPConnection/nextEvent(timeout:)`` with `.zero`.
        public static let input = Readiness(rawValue: 1)
        /// Another thread called ``AMQPWaker/wake()``.
        public static let woken = Readiness(rawValue: 2)
    }

    /// Blocks until the broker sends something, `waker` is woken, or `timeout` passes, whichever
    /// comes first. Never waits longer than half the heartbeat interval, so that the caller's
    /// next library call keeps heartbeats flowing.
    ///
    /// This is the one blocking call of an I/O loop that other threads can interrupt: they queue
    /// work for the loop, then call ``AMQPWaker/wake()``.
    public func waitForInput(timeout: Duration, waker: AMQPWaker?) -> Readiness {
        if hasBufferedInput { return .input }
        var limit = timeout
        if heartbeat > .zero { limit = min(limit, heartbeat / 2) }
        let ms = Int32(clamping: limit.components.seconds * 1000 + limit.components.attoseconds / 1_000_000_000_000_000)
        var fds = [pollfd(fd: socketDescriptor, events: Int16(POLLIN), revents: 0)]
        if let waker { fds.append(pollfd(fd: waker.descriptor, events: Int16(POLLIN), revents: 0)) }
        var result: Int32
        repeat { result = poll(&fds, nfds_t(fds.count), ms) } while result < 0 && errno == EINTR
        var readiness: Readiness = []
        if result > 0 {
            if fds[0].revents != 0 { readiness.insert(.input) }  // POLLIN, or POLLHUP/POLLERR: the next read reports it
            if fds.count > 1, fds[1].revents != 0 {
                waker?.drain()
                readiness.insert(.woken)
            }
        }
        return readiness
    }

    /// Runs `body` with the socket corked (`TCP_CORK`): the frames it sends leave together when
    /// it returns, in as few packets as they fit, rather than each publish's frames and each ack
    /// as a packet of their own. For a burst of sends (a run of acks and replies); a single
    /// frame gains nothing from it.
    public func corked(_ body: () -> Void) {
        let fd = socketDescriptor
        var on: Int32 = 1, off: Int32 = 0
        guard fd >= 0, setsockopt(fd, Int32(IPPROTO_TCP), TCP_CORK, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            return body()
        }
        body()
        // Uncorking pushes what waits. The descriptor is the same unless `body` broke the
        // connection (then there is nothing to push).
        if socketDescriptor == fd { _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_CORK, &off, socklen_t(MemoryLayout<Int32>.size)) }
    }

    /// Puts an event back at the front, so the next ``nextEvent(timeout:)`` returns it.
    func pushBack(_ events: [AMQPEvent]) {
        pending.prepend(events)
    }

    // MARK: - Internals shared by the channel operations

    func ensureOpen() throws(AMQPError) {
        if let failure { throw failure }
        if destroyed { throw AMQPError(.connectionClosed, "the connection is closed") }
    }

    func ensureChannel(_ id: UInt16) throws(AMQPError) {
        try ensureOpen()
        guard channels[id] != nil else {
            throw AMQPError(.channelClosed, "channel \(id) is not open (closed by the broker or never opened)", context: "channel \(id)")
        }
    }

    /// Throws the error an RPC reply carries, if any.
    func check(_ reply: amqp_rpc_reply_t, _ context: @autoclosure () -> String, channel: UInt16) throws(AMQPError) {
        if let error = error(from: reply, context: context(), channel: channel) { throw error }
    }

    /// Turns an RPC reply into an error, updating the connection's state: a server
    /// `channel.close` closes that channel (answered with close-ok), a `connection.close` or a
    /// library failure marks the whole connection dead.
    func error(from reply: amqp_rpc_reply_t, context: String, channel: UInt16) -> AMQPError? {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return nil
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return fail(libraryStatus: reply.library_error, context: context)
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == AMQPMethod.channelClose, let decoded = reply.reply.decoded {
                let m = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                return channelClosed(channel, m, context: context)
            }
            if reply.reply.id == AMQPMethod.connectionClose, let decoded = reply.reply.decoded {
                let m = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return connectionClosed(m, context: context)
            }
            return fail(AMQPError(.protocolError, "unexpected server method \(reply.reply.id)", context: context))
        default:
            return fail(AMQPError(.protocolError, "the broker sent no reply", context: context))
        }
    }

    /// Records a library failure. Most leave the connection in an unknown state, so it is marked dead.
    func fail(libraryStatus status: Int32, context: String) -> AMQPError {
        let text = amqpStatusText(status)
        switch status {
        case AMQP_STATUS_INVALID_PARAMETER.rawValue, AMQP_STATUS_TABLE_TOO_BIG.rawValue, AMQP_STATUS_BAD_URL.rawValue:
            return AMQPError(.invalidArgument, text, context: context, libraryStatus: status)
        case AMQP_STATUS_TIMEOUT.rawValue:
            // librabbitmq: after an RPC timeout the connection's state is unknown; it must not be reused.
            return fail(
                AMQPError(
                    .timeout, "no answer from the broker in time; the connection is given up", context: context, libraryStatus: status))
        case AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue:
            return fail(
                AMQPError(
                    .connectionClosed, "the broker missed its heartbeats; the connection is dead", context: context, libraryStatus: status))
        default:
            return fail(AMQPError(.connectionClosed, "the connection is dead: \(text)", context: context, libraryStatus: status))
        }
    }

    /// Records a failed `basic.publish`: whatever the status, the connection is marked dead, since
    /// librabbitmq may have sent the method frame without its content header (the broker then
    /// closes the connection with `UNEXPECTED_FRAME` at the next frame).
    func failPublish(libraryStatus status: Int32, context: String) -> AMQPError {
        let error = fail(libraryStatus: status, context: context)
        guard failure == nil else { return error }
        return fail(
            AMQPError(
                .connectionClosed, "the connection is unusable after a failed publish: \(error.message)",
                context: context, libraryStatus: status))
    }

    private func fail(_ error: AMQPError) -> AMQPError {
        if failure == nil { failure = error }
        return error
    }

    private func channelClosed(_ channel: UInt16, _ m: amqp_channel_close_t, context: String) -> AMQPError {
        var ok = amqp_channel_close_ok_t()
        _ = amqp_send_method(state, channel, AMQPMethod.channelCloseOK, &ok)
        channels[channel] = nil
        let close = AMQPError.ServerClose(
            replyCode: m.reply_code, replyText: String(amqpBytes: m.reply_text), classID: m.class_id, methodID: m.method_id)
        let culprit = m.class_id == 0 ? "" : amqpMethodName(classID: m.class_id, methodID: m.method_id) + ", "
        return AMQPError(
            .channelClosed, close.replyText, context: "\(culprit)channel \(channel)\(context.isEmpty ? "" : ", " + context)",
            serverClose: close)
    }

    private func connectionClosed(_ m: amqp_connection_close_t, context: String) -> AMQPError {
        var ok = amqp_connection_close_ok_t()
        _ = amqp_send_method(state, 0, AMQPMethod.connectionCloseOK, &ok)
        let close = AMQPError.ServerClose(
            replyCode: m.reply_code, replyText: String(amqpBytes: m.reply_text), classID: m.class_id, methodID: m.method_id)
        return fail(AMQPError(.connectionClosed, close.replyText, context: context, serverClose: close))
    }

    /// Turns a method frame into an event (reading its content when it has one), or handles it
    /// and returns `nil`.
    private func event(from frame: amqp_frame_t) throws(AMQPError) -> AMQPEvent? {
        let channel = frame.channel
        let method = frame.payload.method
        guard let decoded = method.decoded else { return nil }
        switch method.id {
        case AMQPMethod.basicDeliver:
            let m = decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            // Copy the method's fields before reading the content frames reuses the buffers.
            let consumerTag = String(amqpBytes: m.consumer_tag)
            let exchange = String(amqpBytes: m.exchange)
            let routingKey = String(amqpBytes: m.routing_key)
            let (properties, body) = try readContent(channel: channel, context: "basic.deliver")
            return .delivery(
                AMQPDelivery(
                    channel: channel, consumerTag: consumerTag, deliveryTag: m.delivery_tag, redelivered: m.redelivered != 0,
                    exchange: exchange, routingKey: routingKey, properties: properties, body: body))
        case AMQPMethod.basicAck:
            let m = decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            settle(channel: channel, sequence: m.delivery_tag, multiple: m.multiple != 0)
            return .publisherAck(channel: channel, sequence: m.delivery_tag, multiple: m.multiple != 0)
        case AMQPMethod.basicNack:
            let m = decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            settle(channel: channel, sequence: m.delivery_tag, multiple: m.multiple != 0)
            return .publisherNack(channel: channel, sequence: m.delivery_tag, multiple: m.multiple != 0)
        case AMQPMethod.basicReturn:
            let m = decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let replyText = String(amqpBytes: m.reply_text)
            let exchange = String(amqpBytes: m.exchange)
            let routingKey = String(amqpBytes: m.routing_key)
            let (properties, body) = try readContent(channel: channel, context: "basic.return")
            return .returned(
                AMQPReturnedMessage(
                    channel: channel, replyCode: m.reply_code, replyText: replyText, exchange: exchange, routingKey: routingKey,
                    properties: properties, body: body))
        case AMQPMethod.basicCancel:
            let m = decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            let tag = String(amqpBytes: m.consumer_tag)
            if m.nowait == 0 {
                var ok = amqp_basic_cancel_ok_t(consumer_tag: m.consumer_tag)
                _ = amqp_send_method(state, channel, AMQPMethod.basicCancelOK, &ok)
            }
            return .consumerCancelled(channel: channel, consumerTag: tag)
        case AMQPMethod.channelClose:
            let m = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            return .channelClosed(channel: channel, error: channelClosed(channel, m, context: ""))
        case AMQPMethod.connectionClose:
            let m = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            throw connectionClosed(m, context: "")
        default:
            return nil  // connection.blocked/unblocked, channel.flow: nothing to do
        }
    }

    /// Reads the content header and body frames that follow a deliver, return or get-ok.
    func readContent(channel: UInt16, context: String) throws(AMQPError) -> (AMQPBasicProperties, [UInt8]) {
        var message = amqp_message_t()
        let reply = amqp_read_message(state, channel, &message, 0)
        defer { amqp_destroy_message(&message) }
        try check(reply, context, channel: channel)
        return (AMQPBasicProperties(message.properties), [UInt8](amqpBytes: message.body))
    }

    /// Removes confirmed sequence numbers from the channel's outstanding set.
    private func settle(channel: UInt16, sequence: UInt64, multiple: Bool) {
        guard channels[channel] != nil else { return }
        if multiple {
            channels[channel]!.unconfirmed = channels[channel]!.unconfirmed.filter { $0 > sequence }
        } else {
            channels[channel]!.unconfirmed.remove(sequence)
        }
    }
}

/// A FIFO of events read early (while waiting for something else) and handed out later.
private struct EventQueue {
    private var items: [AMQPEvent] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }

    mutating func pop() -> AMQPEvent? {
        guard head < items.count else { return nil }
        let e = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        return e
    }

    mutating func prepend(_ events: [AMQPEvent]) {
        guard !events.isEmpty else { return }
        items = events + items[head...]
        head = 0
    }
}

extension timeval {
    init(_ d: Duration) {
        let (s, atto) = d.components
        self.init(tv_sec: Int(s), tv_usec: Int(atto / 1_000_000_000_000))
    }
}
