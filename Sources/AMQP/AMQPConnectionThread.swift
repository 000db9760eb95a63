internal import CRabbitMQ
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif

/// An ``AMQPConnection`` driven by a thread of its own, for async code.
///
/// librabbitmq's calls block, and a connection must stay on one thread; Swift's cooperative pool
/// must never block. This type owns one OS thread that opens the connection and then loops:
/// run the commands other threads queued, read what the broker sent, then wait on the socket
/// **and** an ``AMQPWaker`` until either has something. So:
/// - heartbeats flow and acks go out while handlers run for minutes on other threads;
/// - ``submit(_:)`` (fire-and-forget, e.g. an ack) and ``perform(_:)`` (await a result) can be
///   called from any thread or task; the waker interrupts the wait at once;
/// - everything the broker sends unasked (deliveries, returns, cancels, closed channels) comes
///   out of ``events``; publisher confirms are matched to ``publish(_:exchange:routingKey:mandatory:properties:on:)`` calls.
///
/// When the connection dies, ``events`` finishes, pending calls fail with the error, and later
/// calls fail at once; ``failure`` tells why. Make a new one to reconnect.
public final class AMQPConnectionThread: Sendable {
    /// Deliveries and other unsolicited events, in the order the broker sent them. Finishes when
    /// the connection closes or dies. Single consumer.
    public let events: AsyncStream<AMQPEvent>
    /// The connection's negotiated heartbeat.
    public let heartbeat: Duration

    private let shared: Shared

    /// State shared by the caller-facing object and the thread. The thread holds only this, so
    /// dropping the ``AMQPConnectionThread`` without ``close()`` still stops the thread.
    private final class Shared: Sendable {
        let eventSink: AsyncStream<AMQPEvent>.Continuation
        let waker = AMQPWaker()
        let inbox = Mutex(Inbox())
        let finished = Mutex<[CheckedContinuation<Void, Never>]?>([])
        let coalescing: AckCoalescing
        init(_ sink: AsyncStream<AMQPEvent>.Continuation, coalescing: AckCoalescing) {
            eventSink = sink
            self.coalescing = coalescing
        }
    }

    /// How long acks, nacks and rejects (and ``publishLater(_:exchange:routingKey:properties:on:)``'s
    /// messages) may wait to go out together.
    ///
    /// Each settlement frame costs a `sendto` here and work in the broker; a busy consumer
    /// whose handlers finish in order settles a whole run of deliveries with one `multiple`
    /// ack when it waits a moment. The wait ends when `batch` settlements are queued, after
    /// `delay`, or when anything else is sent. A consumer that dies in the meantime only leaves
    /// a few more messages for the broker to redeliver (at-least-once either way).
    public struct AckCoalescing: Sendable {
        /// Settlements queued that make them go out at once.
        public var batch: Int
        /// The longest a settlement waits for company.
        public var delay: Duration

        /// Every settlement goes out at once (the default).
        public static let none = AckCoalescing(batch: 1, delay: .zero)

        /// Settlements go out once `batch` are queued, or after `delay`.
        public init(batch: Int, delay: Duration) {
            self.batch = max(1, batch)
            self.delay = delay
        }
    }

    private struct Inbox {
        var jobs: [Job] = []
        /// Settlements and unconfirmed publishes, in the order they were asked for.
        var settlements: [Settlement] = []
        var stopping = false
        var failure: AMQPError?
        /// The thread is (about to be) blocked in `poll`: the next producer must wake it. Producers
        /// that find it `false` skip the eventfd write, so a burst of acks costs one wake-up.
        var sleeping = false
        /// The thread sleeps with settlements queued, until the oldest is due (``AckCoalescing``):
        /// a producer wakes it only for a full batch or another kind of command.
        var lingering = false
        /// When the oldest queued settlement was queued.
        var settlementsSince = ContinuousClock.Instant.now

        /// Whether the caller must write the eventfd: only when the thread sleeps, and only once.
        mutating func takeWakeUp() -> Bool {
            defer { sleeping = false }
            return sleeping
        }
    }

    /// An ack, nack or reject queued by ``ack(_:multiple:)``, ``nack(_:requeue:)`` or ``reject(_:requeue:)``,
    /// or a message queued by ``publishLater(_:exchange:routingKey:properties:on:)``.
    private struct Settlement {
        enum Kind {
            case ack(tag: UInt64, multiple: Bool), nack(tag: UInt64, requeue: Bool), reject(tag: UInt64, requeue: Bool)
            case publish(Outgoing)
        }
        var channel: UInt16
        var kind: Kind
    }

    /// A message waiting to be published without confirms.
    private struct Outgoing {
        var body: [UInt8]
        var exchange: String
        var routingKey: String
        var properties: AMQPBasicProperties
    }

    fileprivate typealias Job = @Sendable (LoopContext) -> Void

    /// Starts the thread and opens the connection on it.
    /// - Parameters:
    ///   - configuration: Where and how to connect.
    ///   - name: The thread's name, as `top -H` shows it (15 characters at most).
    ///   - idleWait: The longest the thread sleeps in `poll` when nothing happens (never longer
    ///     than half the heartbeat). Commands wake it at once, so this only bounds how late it
    ///     notices a dead connection when heartbeats are off. Defaults to 1 second.
    ///   - ackCoalescing: How long acks may wait to share a frame; by default they go out at once.
    /// - Throws: what ``AMQPConnection/init(_:)`` throws.
    public init(
        _ configuration: AMQPConnection.Configuration, name: String = "amqp-io", idleWait: Duration = .seconds(1),
        ackCoalescing: AckCoalescing = .none
    ) async throws(AMQPError) {
        let (events, sink) = AsyncStream.makeStream(of: AMQPEvent.self)
        let shared = Shared(sink, coalescing: ackCoalescing)
        self.events = events
        self.shared = shared
        let started = StartSignal()
        let result: Result<Duration, AMQPError> = await withCheckedContinuation { continuation in
            started.continuation = continuation
            detachThread(name: name) { Self.run(configuration, idleWait: idleWait, started: started, shared: shared) }
        }
        heartbeat = try result.get()
    }

    deinit {
        shared.inbox.withLock { $0.stopping = true }
        shared.waker.wake()
    }

    /// Why the connection ended, once it has (`nil` while it runs, and after a clean ``close()``).
    public var failure: AMQPError? { shared.inbox.withLock { $0.failure } }

    /// Runs `body` on the connection's thread and returns its result.
    ///
    /// `body` must be short: the thread does nothing else while it runs (no heartbeats either).
    public func perform<T: Sendable>(_ body: @escaping @Sendable (AMQPConnection) throws(AMQPError) -> T) async throws(AMQPError) -> T {
        let result: Result<T, AMQPError> = await withCheckedContinuation { continuation in
            enqueue(
                { context in
                    do throws(AMQPError) {
                        continuation.resume(returning: .success(try body(context.connection)))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                },
                orElse: { continuation.resume(returning: .failure($0)) })
        }
        return try result.get()
    }

    /// Queues `body` to run on the connection's thread and returns at once. An error it throws is
    /// dropped; if it broke the connection, ``events`` finishes and ``failure`` says why. Use it
    /// for acks, which must not wait.
    public func submit(_ body: @escaping @Sendable (AMQPConnection) throws(AMQPError) -> Void) {
        enqueue({ context in try? body(context.connection) }, orElse: { _ in })
    }

    /// Acknowledges a delivery from ``events``, fire-and-forget: acks queued together go out in one
    /// pass of the thread. A failure shows as the connection's ``failure`` (or, for a closed
    /// channel, as an ``AMQPEvent/channelClosed(channel:error:)`` already sent): the broker then
    /// redelivers the message.
    ///
    /// - Parameters:
    ///   - delivery: The delivery to acknowledge (its channel and delivery tag).
    ///   - multiple: Also acknowledge every earlier delivery on its channel. Say so when
    ///     you know all of them are settled (for example, handlers finished in delivery order):
    ///     consecutive such acks queued together are then sent as one frame, which spares the
    ///     broker most of its ack work.
    public func ack(_ delivery: AMQPDelivery, multiple: Bool = false) {
        settle(Settlement(channel: delivery.channel, kind: .ack(tag: delivery.deliveryTag, multiple: multiple)))
    }

    /// Refuses a delivery (`basic.nack`), fire-and-forget like ``ack(_:multiple:)``: back to its queue with
    /// `requeue`, else dead-lettered.
    public func nack(_ delivery: AMQPDelivery, requeue: Bool) {
        settle(Settlement(channel: delivery.channel, kind: .nack(tag: delivery.deliveryTag, requeue: requeue)))
    }

    /// Refuses a delivery (`basic.reject`), fire-and-forget like ``ack(_:multiple:)``.
    public func reject(_ delivery: AMQPDelivery, requeue: Bool) {
        settle(Settlement(channel: delivery.channel, kind: .reject(tag: delivery.deliveryTag, requeue: requeue)))
    }

    private func settle(_ settlement: Settlement) {
        let batch = shared.coalescing.batch
        let wake = shared.inbox.withLock { inbox -> Bool in
            guard inbox.failure == nil, !inbox.stopping else { return false }
            inbox.settlements.append(settlement)
            if inbox.settlements.count == 1 && batch > 1 { inbox.settlementsSince = .now }
            if inbox.lingering && inbox.settlements.count < batch { return false }  // it wakes by itself when they are due
            return inbox.takeWakeUp()
        }
        if wake { shared.waker.wake() }
    }

    /// Publishes without confirms, fire-and-forget, in order with the acks, nacks and rejects
    /// queued here: it waits with them (``AckCoalescing``), so a message and the ack of the
    /// delivery it answers usually share one pass of the thread, and no pass of their own.
    ///
    /// Meant for answers (an RPC reply before the ack of its request): the message goes out
    /// before any settlement queued after it. A failure is dropped, as with ``submit(_:)``.
    public func publishLater(
        _ body: [UInt8], exchange: String = "", routingKey: String,
        properties: AMQPBasicProperties = AMQPBasicProperties(), on channel: UInt16
    ) {
        let message = Outgoing(body: body, exchange: exchange, routingKey: routingKey, properties: properties)
        settle(Settlement(channel: channel, kind: .publish(message)))
    }

    /// Publishes with publisher confirms on `channel` (turned on at first use) and waits for the
    /// broker's answer, while the thread goes on serving everything else.
    ///
    /// A `mandatory` message that matches no queue comes back as ``AMQPChannel/PublishOutcome/returned(_:)``
    /// (matched by `messageID` when it has one, else in publish order).
    public func publish(
        _ body: [UInt8], exchange: String = "", routingKey: String, mandatory: Bool = false,
        properties: AMQPBasicProperties = AMQPBasicProperties(), on channel: UInt16
    ) async throws(AMQPError) -> AMQPChannel.PublishOutcome {
        let result: Result<AMQPChannel.PublishOutcome, AMQPError> = await withCheckedContinuation { continuation in
            enqueue(
                { context in
                    do throws(AMQPError) {
                        let ch = try context.connection.channel(channel)
                        if !ch.confirmsEnabled { try ch.enableConfirms() }
                        let seq = try ch.publish(
                            body, exchange: exchange, routingKey: routingKey, mandatory: mandatory, properties: properties)
                        context.confirms.expect(channel: channel, sequence: seq!, messageID: properties.messageID, continuation)
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                },
                orElse: { continuation.resume(returning: .failure($0)) })
        }
        return try result.get()
    }

    /// Ends ``events`` for its consumer now (after what it already holds), while the connection
    /// stays open for acks and publishes: how a consumer stops taking deliveries without being
    /// cancelled. Deliveries the broker sends afterwards are left unacknowledged, and go back to
    /// their queue when the connection closes.
    public func finishEvents() {
        shared.eventSink.finish()
    }

    /// Closes the connection after the commands already queued, and waits for the thread to end.
    /// Unacknowledged deliveries go back to their queues.
    public func close() async {
        shared.inbox.withLock { $0.stopping = true }
        shared.waker.wake()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = shared.finished.withLock { waiting -> Bool in
                guard waiting != nil else { return true }
                waiting!.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func enqueue(_ job: @escaping Job, orElse: (AMQPError) -> Void) {
        let (refused, wake) = shared.inbox.withLock { inbox -> (AMQPError?, Bool) in
            if let failure = inbox.failure { return (failure, false) }
            if inbox.stopping { return (AMQPError(.connectionClosed, "the connection is closing"), false) }
            inbox.jobs.append(job)
            return (nil, inbox.takeWakeUp())
        }
        if let refused { orElse(refused) } else if wake { shared.waker.wake() }
    }

    // MARK: - The thread

    private static func run(
        _ configuration: AMQPConnection.Configuration, idleWait: Duration, started: StartSignal, shared: Shared
    ) {
        let (waker, events) = (shared.waker, shared.eventSink)
        let connection: AMQPConnection
        do throws(AMQPError) {
            connection = try AMQPConnection(configuration)
        } catch {
            shared.inbox.withLock { $0.failure = error }
            started.resume(.failure(error))
            events.finish()
            finishAll(shared)
            return
        }
        started.resume(.success(connection.heartbeat))
        let context = LoopContext(connection: connection)
        var failure: AMQPError?
        let coalescing = shared.coalescing
        loop: while true {
            let (settlements, jobs, stopping) = shared.inbox.withLock { inbox in
                let due =
                    inbox.settlements.count >= coalescing.batch || !inbox.jobs.isEmpty || inbox.stopping
                    || ContinuousClock.now - inbox.settlementsSince >= coalescing.delay
                defer {
                    if due { inbox.settlements.removeAll(keepingCapacity: true) }
                    inbox.jobs.removeAll(keepingCapacity: true)
                }
                return (due ? inbox.settlements : [], inbox.jobs, inbox.stopping)
            }
            // Several frames to send (acks with the replies they follow, most often): one push
            // at the end, not one per frame. Not jobs: one may wait for the broker's answer.
            let send = { Self.apply(settlements, on: connection) }
            if settlements.count > 1 { connection.corked(send) } else { send() }
            for job in jobs { job(context) }
            if stopping { break }
            do throws(AMQPError) {
                // Read everything that has arrived, without waiting.
                while let event = try connection.nextEvent(timeout: .zero) {
                    if let event = context.confirms.handle(event) { events.yield(event) }
                }
            } catch {
                failure = error
                break loop
            }
            if let error = connection.failure {  // a job found the connection dead
                failure = error
                break
            }
            let wait = shared.inbox.withLock { inbox -> Duration? in
                guard inbox.jobs.isEmpty && !inbox.stopping else { return nil }
                if inbox.settlements.isEmpty {
                    inbox.sleeping = true
                    inbox.lingering = false
                    return idleWait
                }
                let left = coalescing.delay - (ContinuousClock.now - inbox.settlementsSince)
                guard coalescing.batch > inbox.settlements.count, left > .zero else { return nil }
                inbox.sleeping = true
                inbox.lingering = true
                return max(left, .milliseconds(1))  // poll counts whole milliseconds
            }
            if let wait {
                _ = connection.waitForInput(timeout: wait, waker: waker)
                shared.inbox.withLock {
                    $0.sleeping = false
                    $0.lingering = false
                }
            }
        }
        connection.close()
        let final = failure ?? AMQPError(.connectionClosed, "the connection was closed")
        let leftover = shared.inbox.withLock { inbox in
            if failure != nil { inbox.failure = failure }
            inbox.stopping = true
            defer {
                inbox.jobs.removeAll()
                inbox.settlements.removeAll()
            }
            return inbox.jobs
        }
        context.confirms.failAll(final)
        // Commands queued after the end still run, against the closed connection: they fail fast.
        for job in leftover { job(context) }
        events.finish()
        finishAll(shared)
    }

    /// Sends queued acks, nacks, rejects and messages in order, merging each run of `multiple`
    /// acks on a channel into one frame (the largest tag covers the others). Merged acks may go
    /// out after messages queued after them, never before messages queued before them.
    private static func apply(_ settlements: [Settlement], on connection: AMQPConnection) {
        var merged: [UInt16: UInt64] = [:]  // channel -> largest multiple-ack tag not yet sent
        func flush(_ channel: UInt16) {
            if let tag = merged.removeValue(forKey: channel) { send(channel, .ack(tag: tag, multiple: true)) }
        }
        func send(_ channel: UInt16, _ kind: Settlement.Kind) {
            // Errors need no handling here: a dead connection is noticed by the loop right after,
            // and a closed channel has already been reported as an event.
            guard let ch = try? connection.channel(channel) else { return }
            switch kind {
            case .ack(let tag, let multiple): try? ch.ack(tag, multiple: multiple)
            case .nack(let tag, let requeue): try? ch.nack(tag, requeue: requeue)
            case .reject(let tag, let requeue): try? ch.reject(tag, requeue: requeue)
            case .publish(let m):
                _ = try? ch.publish(m.body, exchange: m.exchange, routingKey: m.routingKey, properties: m.properties)
            }
        }
        for s in settlements {
            switch s.kind {
            case .ack(let tag, multiple: true): merged[s.channel] = max(merged[s.channel] ?? 0, tag)
            case .publish: send(s.channel, s.kind)  // acks waiting to merge may follow it
            default:
                flush(s.channel)
                send(s.channel, s.kind)
            }
        }
        for channel in Array(merged.keys) { flush(channel) }
    }

    private static func finishAll(_ shared: Shared) {
        let waiting = shared.finished.withLock { w -> [CheckedContinuation<Void, Never>] in
            defer { w = nil }
            return w ?? []
        }
        for c in waiting { c.resume() }
    }
}

/// What commands see on the connection's thread.
private final class LoopContext {
    let connection: AMQPConnection
    let confirms = ConfirmTracker()
    init(connection: AMQPConnection) { self.connection = connection }
}

/// Matches publisher confirms and returns to the callers waiting for them (thread-confined).
private final class ConfirmTracker {
    typealias Waiter = CheckedContinuation<Result<AMQPChannel.PublishOutcome, AMQPError>, Never>
    private struct Pending {
        var sequence: UInt64
        var messageID: String?
        var waiter: Waiter
    }
    private var pending: [UInt16: [Pending]] = [:]
    private var returns: [UInt16: [AMQPReturnedMessage]] = [:]

    func expect(channel: UInt16, sequence: UInt64, messageID: String?, _ waiter: Waiter) {
        pending[channel, default: []].append(Pending(sequence: sequence, messageID: messageID, waiter: waiter))
    }

    /// Consumes confirm-related events; returns the others for the event stream.
    func handle(_ event: AMQPEvent) -> AMQPEvent? {
        switch event {
        case .publisherAck(let channel, let seq, let multiple):
            settle(channel: channel, sequence: seq, multiple: multiple, acked: true)
        case .publisherNack(let channel, let seq, let multiple):
            settle(channel: channel, sequence: seq, multiple: multiple, acked: false)
        case .returned(let message) where pending[message.channel]?.isEmpty == false:
            returns[message.channel, default: []].append(message)
        case .channelClosed(let channel, let error):
            for p in pending.removeValue(forKey: channel) ?? [] { p.waiter.resume(returning: .failure(error)) }
            returns[channel] = nil
            return event
        default:
            return event
        }
        return nil
    }

    private func settle(channel: UInt16, sequence: UInt64, multiple: Bool, acked: Bool) {
        guard var waiting = pending[channel] else { return }
        let covered = waiting.filter { multiple ? $0.sequence <= sequence : $0.sequence == sequence }
        waiting.removeAll { multiple ? $0.sequence <= sequence : $0.sequence == sequence }
        pending[channel] = waiting
        var returned = returns[channel] ?? []
        for p in covered {
            var outcome: AMQPChannel.PublishOutcome = acked ? .acked : .nacked
            // A return precedes the ack of the same message.
            if !returned.isEmpty {
                let match = p.messageID.flatMap { id in returned.firstIndex { $0.properties.messageID == id } }
                if let i = match ?? (p.messageID == nil ? 0 : nil) {
                    outcome = .returned(returned.remove(at: i))
                }
            }
            p.waiter.resume(returning: .success(outcome))
        }
        returns[channel] = returned.isEmpty ? nil : returned
    }

    func failAll(_ error: AMQPError) {
        for (_, list) in pending { for p in list { p.waiter.resume(returning: .failure(error)) } }
        pending = [:]
    }
}

/// Hands the connection's start-up result from the thread to the awaiting initializer.
private final class StartSignal: @unchecked Sendable {
    // Written once by the initializer before the thread starts, read once by the thread:
    // pthread_create orders the two.
    var continuation: CheckedContinuation<Result<Duration, AMQPError>, Never>?
    func resume(_ result: Result<Duration, AMQPError>) { continuation?.resume(returning: result) }
}
