import AMQP
import Foundation
import Logging
import WarrenCore

/// How a delivery ends for the broker.
enum Settlement {
    /// Done with (ran, or handed on to a retry, wait queue or dead letter the broker confirmed).
    case ack
    /// Could not be handed on: back to the queue, to be tried again.
    case requeue
}

/// What became of a message Warren publishes on a task's settle path (a retry, a wait, a dead
/// letter).
enum Handover {
    /// The broker confirmed it: the delivery can be acknowledged.
    case done
    /// The broker refused it, or the connection failed: the delivery goes back to its queue.
    case failed
    /// It could not be sent at all as it is (over 255 bytes where AMQP allows no more, or too
    /// large for a frame); nothing was sent and the connection is intact. Sending it again would
    /// fail again: the caller must send something smaller, never requeue.
    case unsendable(String)
}

/// The handler took longer than its soft time limit and was cancelled.
struct TimeLimitExceeded: Error, CustomStringConvertible, CeleryExceptionConvertible {
    var limit: Duration
    var description: String { "the task exceeded its time limit of \(limit.humanReadable)" }
    var celeryException: CeleryException {
        CeleryException(type: "SoftTimeLimitExceeded", module: "billiard.exceptions", message: description)
    }
}

extension ChildWorker {
    /// Sends a task event, built only while task events are on.
    func event(_ make: @autoclosure () -> TaskEvent, io: AMQPConnectionThread) {
        guard hooks.taskEventsOn() else { return }
        hooks.sendTaskEvent(make(), io)
    }

    /// Runs one delivery to its end and settles it with the broker. Never throws: every failure
    /// becomes a retry, a dead letter or (when even that cannot be published) a requeue.
    /// - Parameter cancel: The task it runs in, when it has one of its own (its handler can then
    ///   be cancelled alone by a terminating revoke).
    func process(
        _ delivery: AMQPDelivery, io: AMQPConnectionThread, tracker: DeliveryTracker, slots: AsyncSlots, cancel: DeliveryTask? = nil
    ) async {
        let (settlement, summary) = await outcome(of: delivery, io: io, slots: slots, cancel: cancel)
        tracker.settle(delivery.deliveryTag) { multiple in
            switch settlement {
            case .ack: io.ack(delivery, multiple: multiple)
            case .requeue: io.nack(delivery, requeue: true)
            }
        }
        if var summary {
            if settlement == .requeue { summary.outcome = .requeued }
            hooks.taskFinished(summary)
            taskFinished()
        }
    }

    /// How the delivery ends, and what the task's handler did when it ran.
    private func outcome(of delivery: AMQPDelivery, io: AMQPConnectionThread, slots: AsyncSlots, cancel: DeliveryTask?) async -> (
        Settlement, TaskSummary?
    ) {
        let intake = DeliveryIntake(
            redelivered: delivery.redelivered, queueType: queue.type,
            // Only a redelivery's count matters: no header lookup for the others.
            deliveryCount: delivery.redelivered ? Self.deliveryCount(delivery.properties.headers?["x-delivery-count"]) : nil)
        // Stopping: prefetched tasks go back.
        if case .requeue = intake.received(stopping: stopping.withLock { $0 }) { return (.requeue, nil) }
        let task: TaskMessage
        do {
            task = try decoder.decode(delivery: delivery)
        } catch {
            let name = delivery.properties.headers?["task"]?.stringValue ?? delivery.routingKey
            return (await perform(intake.undecodable(error, name: name), delivery, task: nil, log: logger, io: io), nil)
        }
        var decision = intake.decoded(task, revoked: hooks.isRevoked(task.id))
        if decision != .revoked { event(.received(task), io: io) }
        if case .askDeaths = decision { decision = intake.deathsAnswered(await hooks.deaths(task.id), task: task) }
        guard case .proceed = decision else { return (await perform(decision, delivery, task: task, log: logger, io: io), nil) }
        return await run(delivery, task: task, intake: intake, io: io, slots: slots, cancel: cancel)
    }

    /// Performs a decision that ends a delivery before its handler runs: requeue, dead-letter
    /// (with its log line and failure reply), or send to wait in the broker.
    private func perform(_ decision: DeliveryDecision, _ delivery: AMQPDelivery, task: TaskMessage?, log: Logger, io: AMQPConnectionThread)
        async -> Settlement
    {
        switch decision {
        case .requeue:
            return .requeue
        case .sendToWait(let eta):
            guard let task else { return .requeue }  // not reached: only a decoded task has an eta
            return await sendToWait(delivery, task: task, until: eta, io: io, log: log)
        case .deadLetter(let dead):
            switch dead.cause {
            case .undecodable(let id):
                var metadata: Logger.Metadata = [
                    "task.name": "\(ErrorText.bounded(dead.task, maxBytes: DeadLetterHeaders.maxNameBytes))",
                    "error": "\(ErrorText.bounded(dead.message))",
                ]
                if let id { metadata["task.id"] = "\(ErrorText.bounded(id, maxBytes: DeadLetterHeaders.maxNameBytes))" }
                logger.error("malformed message dead-lettered", metadata: metadata)
            case .deliveredTooOften(let deliveries):
                logger.error(
                    "poison task dead-lettered",
                    metadata: [
                        "task.id": "\(task?.id ?? "")", "task.name": "\(dead.task)", "deliveries": "\(deliveries)",
                    ])
            case .killedChild(let deaths):
                logger.error(
                    "poison task dead-lettered",
                    metadata: [
                        "task.id": "\(task?.id ?? "")", "task.name": "\(dead.task)", "deaths": "\(deaths)",
                    ])
            case .unknownTask:
                log.error("unknown task dead-lettered")
            case .expired(let expires):
                log.warning("expired task dead-lettered", metadata: ["expires": "\(CeleryTime.format(expires))"])
            case .workflow:
                log.error(
                    "task dead-lettered: its workflow cannot be followed",
                    metadata: ["reason": "\(dead.reason)", "error": "\(dead.message)"])
            }
            if let task {
                if case .expired = dead.cause {
                    event(TaskEvent(uuid: task.id, kind: .revoked(expired: true)), io: io)
                } else {
                    event(TaskEvent(uuid: task.id, kind: .rejected(requeue: false)), io: io)
                }
            }
            if let failure = dead.reply, let task {
                var reply = TaskReply.failure(failure.exception, for: task)
                reply.state = failure.state
                self.reply(reply, to: task, io: io)
                if case .failed = await endWorkflow(of: task, failure: reply, io: io, log: log) { return .requeue }
            }
            return await deadLetter(
                delivery, reason: dead.reason, errorType: dead.errorType, message: dead.message, task: dead.task, attempts: dead.attempts,
                io: io)
        case .revoked:
            guard let task else { return .ack }  // not reached: only a decoded task is revoked
            return await revoked(task, io: io, log: log, running: false)
        case .proceed, .askDeaths, .run:
            assertionFailure("\(decision) does not end a delivery")
            return .requeue
        }
    }

    /// Runs a decoded task (or sends it on: unknown, expired, not due yet); a summary when its
    /// handler ran.
    private func run(
        _ delivery: AMQPDelivery, task: TaskMessage, intake: DeliveryIntake, io: AMQPConnectionThread, slots: AsyncSlots,
        cancel: DeliveryTask?
    ) async -> (Settlement, TaskSummary?) {
        var log = logger
        log[metadataKey: "task.id"] = "\(task.id)"
        log[metadataKey: "task.name"] = "\(ErrorText.bounded(task.name, maxBytes: DeadLetterHeaders.maxNameBytes))"
        log[metadataKey: "task.attempt"] = "\(task.retries + 1)"

        let handler = registry.handler(for: task.name)
        let decision = intake.checked(task, registered: handler != nil, now: Date())
        guard case .run(let wait) = decision, let handler else {
            return (await perform(decision, delivery, task: task, log: log, io: io), nil)
        }
        if wait > .zero { try? await Task.sleep(for: wait) }  // under 100 ms: cheaper than a round trip

        await slots.acquire()
        defer { slots.release() }
        // Stopping while this waited for a slot, or its connection died meanwhile: back to the queue.
        if case .requeue = intake.slotAcquired(stopping: stopping.withLock { $0 }, connectionFailed: io.failure != nil) {
            return (.requeue, nil)
        }
        let context = TaskContext(
            id: task.id, name: task.name, attempt: task.retries + 1, queue: queue.name, redelivered: delivery.redelivered,
            eta: task.eta, expires: task.expires, logger: log, message: task)
        // A `time_limit` sent by remote control for this task name replaces the queue's.
        let limits =
            if let override = hooks.timeLimit(task.name) {
                task.timeLimit.effective(queueLimit: override.soft, queueHard: override.hard, grace: hardTimeLimitGrace)
            } else {
                task.timeLimit.effective(queueLimit: queue.timeLimit, grace: hardTimeLimitGrace)
            }
        let (softLimit, hardLimit) = (limits.soft, limits.hard)
        let now = Date()
        let lag = QueueLag.seconds(of: delivery, dueAt: task.eta, now: now)
        hooks.taskStarted(task, hardLimit.map { now.addingTimeInterval($0.seconds) })
        event(TaskEvent(uuid: task.id, kind: .started), io: io)
        log.debug("task started", metadata: ["redelivered": "\(delivery.redelivered)"])
        // The handler runs, and its outcome is settled, in the span of the sender's trace.
        return await TaskSpan.run(task, queue: queue.name, headers: delivery.properties.headers) {
            let started = ContinuousClock.now
            if let cancel { hooks.cancellable(task.id) { cancel.cancel() } }
            let result = await run(handler, task, context, softLimit: softLimit)
            let terminated = cancel != nil && hooks.handlerEnded(task.id)
            let duration = ContinuousClock.now - started
            if log.logLevel <= .info { log[metadataKey: "duration"] = "\(duration.secondsText)" }  // only when it will be logged

            var summary = TaskSummary(id: task.id, name: task.name, outcome: .succeeded, duration: duration.seconds, lag: lag)
            switch result {
            case .success(let value):
                log.info("task succeeded", metadata: ["task.outcome": "succeeded"])
                event(TaskEvent(uuid: task.id, kind: .succeeded(result: PythonRepr.truncated(value), runtime: duration.seconds)), io: io)
                reply(.success(value, for: task), to: task, io: io)
                // The workflow goes on (next chain step, callbacks) before the task is acked.
                let followUps = Canvas.afterSuccess(of: task, result: value)
                if !followUps.isEmpty, case .failed = await publish(followUps, of: task, io: io, log: log) {
                    return TaskSpan.Ending(value: (.requeue, summary), outcome: .requeued)
                }
                return TaskSpan.Ending(value: (.ack, summary), outcome: .succeeded)
            case .failure where terminated:
                // Cancelled by revoke(terminate=True): no retry, no dead letter; its caller gets REVOKED.
                summary.outcome = .revoked
                return TaskSpan.Ending(value: (await revoked(task, io: io, log: log, running: true), summary), outcome: .revoked)
            case .failure(let error):
                let settlement: Settlement
                (settlement, summary.outcome) = await failed(delivery, task: task, error: error, io: io, log: log)
                return TaskSpan.Ending(
                    value: (settlement, summary), outcome: settlement == .requeue ? .requeued : summary.outcome, error: error)
            }
        }
    }

    /// A revoked task ends: logged, its caller told `REVOKED` (`TaskRevokedError`, as Celery's
    /// worker says it), a `task-revoked` event; acked. `running`: its handler was cancelled.
    private func revoked(_ task: TaskMessage, io: AMQPConnectionThread, log: Logger, running: Bool) async -> Settlement {
        log.info(
            running ? "revoked task terminated: its handler was cancelled" : "revoked task discarded without running",
            metadata: [
                "task.id": "\(ErrorText.bounded(task.id, maxBytes: DeadLetterHeaders.maxNameBytes))",
                "task.name": "\(ErrorText.bounded(task.name, maxBytes: DeadLetterHeaders.maxNameBytes))",
            ])
        var reply = TaskReply.failure(
            CeleryException(type: "TaskRevokedError", module: "celery.exceptions", message: running ? "terminated" : "revoked"),
            traceback: nil, for: task)
        reply.state = .revoked
        reply.traceback = nil
        self.reply(reply, to: task, io: io)
        event(TaskEvent(uuid: task.id, kind: .revoked(expired: false)), io: io)
        return .ack
    }

    /// Runs the handler, cancelling it when the soft time limit passes.
    private func run(
        _ handler: @escaping TaskRegistry.Handler, _ task: TaskMessage, _ context: TaskContext, softLimit: Duration?
    ) async -> Result<JSONValue, any Error> {
        guard let limit = softLimit else {
            do { return .success(try await handler(task, context)) } catch { return .failure(error) }
        }
        return await withTaskGroup(of: Result<JSONValue, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await handler(task, context)) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return Task.isCancelled ? nil : .failure(TimeLimitExceeded(limit: limit))
            }
            // The first to finish wins; the other is cancelled (a handler must cooperate; the
            // supervisor's hard limit deals with one that does not).
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(TimeLimitExceeded(limit: limit))
        }
    }

    /// A handler failed: retry per policy (`retried`), or dead-letter (`failed`).
    private func failed(_ delivery: AMQPDelivery, task: TaskMessage, error: any Error, io: AMQPConnectionThread, log: Logger)
        async -> (Settlement, TaskOutcome)
    {
        let attempt = task.retries + 1
        let delay: Duration
        let ifUnsendable: DeadLetterReason
        switch CompletionDecision(failure: error, attempt: attempt, policy: retryPolicy, random: { Double.random(in: 0...1) }) {
        case .retry(let after, let reason):
            (delay, ifUnsendable) = (after, reason)
        case .deadLetter(let reason):
            return (await giveUp(delivery, task: task, reason: reason, error: error, io: io, log: log), .failed)
        case .ack:  // not reached: a failure is never acked as a success
            return (await giveUp(delivery, task: task, reason: .failed, error: error, io: io, log: log), .failed)
        }
        let exception = CeleryException(error)
        log.warning(
            "task failed, will retry",
            metadata: [
                "task.outcome": "retried", "error": "\(ErrorText.bounded("\(exception.type): \(exception.message)"))",
                "retry.in": "\(delay.secondsText)",
            ])
        event(
            TaskEvent(
                uuid: task.id,
                kind: .retried(
                    exception: TaskEvent.exceptionRepr(exception), traceback: TaskReply.traceback(for: exception, task: task))),
            io: io)
        var headers = DeadLetterHeaders.recordingFailure(in: delivery.properties.headers, delivery: delivery)
        headers["retries"] = TaskMessage.integer(attempt)  // 32-bit, or 64-bit beyond (as py-amqp writes it)
        switch await republish(delivery, task: task, headers: headers, until: Date().addingTimeInterval(delay.seconds), io: io) {
        case .done: return (.ack, .retried)
        case .failed: return (.requeue, .retried)
        case .unsendable(let why):
            // Its own headers leave no room for the retry's: it can never be retried, so it ends here.
            let text = "\(exception.type): \(exception.message)"
            log.error(
                "task failed and cannot be retried: dead-lettered",
                metadata: [
                    "task.outcome": "failed", "reason": "\(ifUnsendable)", "error": "\(ErrorText.bounded(text))",
                    "why": "\(ErrorText.bounded(why, maxBytes: 512))",
                ])
            reply(.failure(error, for: task), to: task, io: io)
            if case .failed = await endWorkflow(of: task, failure: .failure(error, for: task), io: io, log: log) {
                return (.requeue, .failed)
            }
            return (
                await deadLetter(
                    delivery, reason: ifUnsendable, errorType: exception.type,
                    message: "the task failed and cannot be retried (\(why)): \(text)", task: task.name, attempts: attempt, io: io),
                .failed
            )
        }
    }

    private func giveUp(
        _ delivery: AMQPDelivery, task: TaskMessage, reason: DeadLetterReason, error: any Error, io: AMQPConnectionThread,
        log: Logger
    ) async -> Settlement {
        let exception = CeleryException(error)
        log.error(
            "task failed, dead-lettered",
            metadata: [
                "task.outcome": "failed", "reason": "\(reason.rawValue)",
                "error": "\(ErrorText.bounded("\(exception.type): \(exception.message)"))",
            ])
        let failure = TaskReply.failure(error, for: task)
        event(
            TaskEvent(uuid: task.id, kind: .failed(exception: TaskEvent.exceptionRepr(exception), traceback: failure.traceback ?? "")),
            io: io)
        reply(failure, to: task, io: io)
        if case .failed = await endWorkflow(of: task, failure: failure, io: io, log: log) { return .requeue }
        return await deadLetter(
            delivery, reason: reason, errorType: exception.type, message: exception.message, task: task.name,
            attempts: task.retries + 1, io: io)
    }

    // MARK: - Publishing what comes next

    /// A task whose `eta` is ahead goes to wait in the broker, not here.
    private func sendToWait(_ delivery: AMQPDelivery, task: TaskMessage, until eta: Date, io: AMQPConnectionThread, log: Logger)
        async -> Settlement
    {
        log.debug("task scheduled for later: waiting in the broker", metadata: ["eta": "\(CeleryTime.format(eta))"])
        // It comes back through the delayed exchange: keep where it was first published.
        var headers = delivery.properties.headers ?? [:]
        if headers[DeadLetterHeaders.exchange] == nil { headers[DeadLetterHeaders.exchange] = .string(delivery.exchange) }
        if headers[DeadLetterHeaders.routingKey] == nil { headers[DeadLetterHeaders.routingKey] = .string(delivery.routingKey) }
        switch await republish(delivery, task: task, headers: headers, until: eta, io: io) {
        case .done: return .ack
        case .failed: return .requeue
        case .unsendable(let why):
            log.error(
                "task with an eta cannot be sent to wait: dead-lettered", metadata: ["why": "\(ErrorText.bounded(why, maxBytes: 512))"])
            return await deadLetter(
                delivery, reason: .malformed, errorType: "EnvelopeError",
                message: "the task's eta is ahead but it cannot be sent to wait in the broker: \(why)", task: task.name,
                attempts: task.retries, io: io)
        }
    }

    /// Publishes the message again (same body and properties, these headers) so that it comes
    /// back to this queue at `eta`: through a wait queue when that is 100 ms or more away.
    private func republish(_ delivery: AMQPDelivery, task: TaskMessage, headers: AMQPTable, until eta: Date, io: AMQPConnectionThread)
        async -> Handover
    {
        var headers = headers
        // It comes back with the queue's name as routing key: keep what identifies the task.
        headers["task"] = .string(task.name)
        headers["id"] = .string(task.id)
        headers["eta"] = .string(CeleryTime.format(eta))
        var properties = delivery.properties
        let milliseconds = Int((eta.timeIntervalSinceNow * 1000).rounded(.down))
        let exchange: String
        if let step = DelayedDelivery.step(atMost: milliseconds) {
            do throws(AMQPError) {
                try await ensureWaitQueue(milliseconds: step, io: io)
            } catch {
                logger.error("cannot declare a wait queue; the message goes back to its queue", metadata: ["error": "\(error)"])
                return .failed
            }
            properties.headers = DelayedDelivery.waitHeaders(headers, milliseconds: step)
            exchange = delays.waitExchange
        } else {
            headers["warren-wait"] = nil
            properties.headers = headers
            exchange = delays.delayedExchange
        }
        return await publishConfirmed(delivery.body, exchange: exchange, routingKey: queue.name, properties: properties, io: io)
    }

    private func ensureWaitQueue(milliseconds ms: Int, io: AMQPConnectionThread) async throws(AMQPError) {
        // Redeclaring restarts the queue's idle expiry; once a minute is plenty.
        let fresh = declaredWaitQueues.withLock { $0[ms].map { ContinuousClock.now - $0 < .seconds(60) } ?? false }
        if fresh { return }
        let delays = self.delays
        try await io.perform { connection throws(AMQPError) in
            try delays.declareWaitQueue(milliseconds: ms, on: connection.channel(Self.publishChannel))
        }
        declaredWaitQueues.withLock { $0[ms] = .now }
    }

    /// Sends the message, unchanged but for the reasons, to the dead-letter queue.
    private func deadLetter(
        _ delivery: AMQPDelivery, reason: DeadLetterReason, errorType: String?, message: String, task: String?, attempts: Int,
        io: AMQPConnectionThread
    ) async -> Settlement {
        var properties = delivery.properties
        properties.headers = DeadLetterHeaders.adding(
            to: properties.headers, reason: reason, errorType: errorType, message: message, task: task, queue: queue.name,
            delivery: delivery, attempts: attempts)
        // A per-message TTL (Celery sets one for `expires`) would make the dead letter vanish
        // from the dead-letter queue too: keep it only as a header.
        if let expiration = properties.expiration {
            properties.headers?["x-warren-original-expiration"] = .string(expiration)
            properties.expiration = nil
        }
        let queue = configuration.deadLetterQueue
        var outcome = await publishConfirmed(delivery.body, exchange: "", routingKey: queue, properties: properties, io: io)
        // Too large for a frame (the original headers, most often): the largest original headers
        // are left out, then everything but the reasons. Never requeued: it would only come back.
        if case .unsendable(let why) = outcome {
            let frameMax = (try? await io.perform { $0.frameMax }) ?? 0
            if frameMax > 0, let fitted = DeadLetterHeaders.fitting(properties, frameMax: frameMax) {
                logger.warning(
                    "dead letter too large for a frame: original headers left out",
                    metadata: [
                        "why": "\(ErrorText.bounded(why, maxBytes: 512))",
                        "dropped": "\(fitted.headers?[DeadLetterHeaders.droppedHeaders]?.stringValue ?? "")",
                    ])
                outcome = await publishConfirmed(delivery.body, exchange: "", routingKey: queue, properties: fitted, io: io)
            }
        }
        if case .unsendable(let why) = outcome {
            logger.warning(
                "dead letter cannot be published whole: sent in its minimal form",
                metadata: [
                    "why": "\(ErrorText.bounded(why, maxBytes: 512))"
                ])
            let minimal = DeadLetterHeaders.minimal(
                delivery.properties, id: delivery.properties.headers?["id"]?.stringValue ?? delivery.properties.messageID,
                reason: reason, errorType: errorType, message: message, task: task, queue: self.queue.name, delivery: delivery,
                attempts: attempts)
            outcome = await publishConfirmed(delivery.body, exchange: "", routingKey: queue, properties: minimal, io: io)
        }
        switch outcome {
        case .done:
            hooks.deadLettered(reason)
            return .ack
        case .failed:
            return .requeue
        case .unsendable(let why):  // not expected: the minimal form fits any frame a broker allows
            logger.critical(
                "dead letter cannot be published even in its minimal form; it goes back to its queue",
                metadata: [
                    "why": "\(ErrorText.bounded(why, maxBytes: 512))"
                ])
            return .requeue
        }
    }

    /// Publishes with a broker confirm: `.done` once confirmed (the original can be acked), else
    /// `.failed` (it goes back to its queue, so the message is never lost between the two), or
    /// `.unsendable` when it cannot be sent as it is (nothing was sent).
    private func publishConfirmed(
        _ body: [UInt8], exchange: String, routingKey: String, properties: AMQPBasicProperties, io: AMQPConnectionThread
    ) async -> Handover {
        do {
            let outcome = try await io.publish(
                body, exchange: exchange, routingKey: routingKey, mandatory: true, properties: properties, on: Self.publishChannel)
            if case .acked = outcome { return .done }
            logger.error(
                "the broker did not take a message; it goes back to its queue",
                metadata: [
                    "exchange": "\(exchange)", "routing_key": "\(routingKey)",
                    "outcome": "\(ErrorText.bounded("\(outcome)", maxBytes: 512))",
                ])
        } catch  where error.code == .invalidArgument {
            return .unsendable(error.message)
        } catch {
            logger.error(
                "publish failed; the message goes back to its queue",
                metadata: [
                    "error": "\(ErrorText.bounded("\(error)", maxBytes: 512))"
                ])
        }
        return .failed
    }

    /// Sends a result to the task's `reply_to`, as Celery's rpc:// backend does (not confirmed;
    /// a reply queue that no longer exists just drops it). It goes out with the acks: before
    /// the task's own, in the same pass of the connection's thread.
    func reply(_ reply: TaskReply, to task: TaskMessage, io: AMQPConnectionThread) {
        guard let (routingKey, message) = task.replyMessage(reply.boundingErrorText()) else { return }
        // The task ran (or is settled) whatever becomes of its reply: one that cannot be sent is
        // logged and left out, never a reason to requeue the task.
        let problem =
            configuration.isWarrenQueue(routingKey)
            ? "reply_to names one of Warren's own queues"
            : message.properties.encodingProblem(frameMax: 4096)
                ?? (routingKey.utf8.count > 255 ? "reply_to is over 255 bytes" : nil)
        if let problem {
            logger.warning(
                "the task's reply cannot be published; none is sent",
                metadata: [
                    "task.id": "\(ErrorText.bounded(task.id, maxBytes: DeadLetterHeaders.maxNameBytes))",
                    "why": "\(ErrorText.bounded(problem, maxBytes: 512))",
                ])
            return
        }
        io.publishLater(message.body, routingKey: routingKey, properties: message.properties, on: Self.replyChannel)
    }
}

extension ChildWorker {
    /// The broker's `x-delivery-count` (deliveries before this one), when it is a count: any
    /// integer kind, never negative; `nil` otherwise. (A client can set it too: it is not trusted
    /// to be small.)
    static func deliveryCount(_ value: AMQPValue?) -> Int? {
        guard let value, let count = HeaderReader.integer(value), count >= 0 else { return nil }
        return count
    }
}

extension Duration {
    /// Seconds with millisecond precision, e.g. `0.012s`, for logs.
    var secondsText: String {
        let ms = Int((seconds * 1000).rounded())
        let fraction = String(ms % 1000)
        return "\(ms / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)s"
    }
}
