import AMQP
import Foundation
import WarrenCore

// A child's decisions about one delivery, as plain values (STYLE A7): the I/O shell
// (`ChildWorker+Processing.swift`) gathers each fact, feeds it in as an event, and performs the
// decision it gets back (requeue, publish, reply, log, settle). Nothing here does I/O, reads a
// clock or draws a random number: time and randomness are passed in, so tests can drive every
// ordering in microseconds without a broker.

/// What the child does next with a delivery, before its handler runs.
enum DeliveryDecision: Equatable, Sendable {
    /// Go on to the next step (decode it, look its task up, wait for a slot, run it).
    case proceed
    /// It was delivered before: ask the supervisor how often it was running in a child that
    /// died, then feed the answer to ``DeliveryIntake/deathsAnswered(_:task:)``.
    case askDeaths
    /// Back to its queue, not run (the child is stopping, or lost its connection).
    case requeue
    /// It can never run: send it to the dead-letter queue (and the failure reply, if any).
    case deadLetter(DeadLetterPlan)
    /// Its `eta` is 100 ms or more ahead: send it to wait in the broker until then.
    case sendToWait(until: Date)
    /// Run it, after waiting this long in memory first (under 100 ms; `.zero` for at once).
    case run(after: Duration)
    /// It was revoked on this node (Celery's `revoke`): acknowledge it without running it, and
    /// reply `REVOKED` with `TaskRevokedError` as Celery's worker does.
    case revoked
}

/// A delivery that ends in the dead-letter queue before its handler ran.
struct DeadLetterPlan: Equatable, Sendable {
    /// What happened, for the shell's log line.
    enum Cause: Equatable, Sendable {
        /// The message cannot be read as a task; the id, when it was known.
        case undecodable(taskID: String?)
        /// A quorum queue delivered it this often (`N` or `more than N`) without an ack.
        case deliveredTooOften(deliveries: String)
        /// It was running when its child died this many times.
        case killedChild(deaths: Int)
        /// No handler is registered under its name.
        case unknownTask
        /// Its `expires` passed before it could run.
        case expired(Date)
        /// Its workflow cannot be followed (a chord, a malformed chain or link).
        case workflow
    }

    var reason: DeadLetterReason
    /// `x-warren-error-type`.
    var errorType: String
    /// `x-warren-error`.
    var message: String
    /// `x-warren-task`.
    var task: String
    /// `x-warren-attempts`.
    var attempts: Int
    /// The reply to send the caller first, if any (none when the message cannot be decoded).
    var reply: FailureReply?
    var cause: Cause
}

/// A failure reply decided without a clock: the shell dates it when it sends it.
struct FailureReply: Equatable, Sendable {
    var exception: CeleryException
    /// `FAILURE`, or `REVOKED` for an expired task.
    var state: TaskState
}

/// The facts a child knows about a delivery when it arrives, and the decision each later fact
/// leads to before the handler runs. Events, in the order the shell meets them:
/// ``received(stopping:)``, then ``undecodable(_:name:)`` or ``decoded(_:)``, then (only when
/// that said ``DeliveryDecision/askDeaths``) ``deathsAnswered(_:task:)``, then
/// ``checked(_:registered:now:)``, then ``slotAcquired(stopping:connectionFailed:)``.
struct DeliveryIntake: Sendable {
    /// The broker delivered it before.
    var redelivered: Bool
    /// The type of the queue it came from.
    var queueType: QueueType
    /// The broker's `x-delivery-count` (deliveries before this one), when it is a count
    /// (``ChildWorker/deliveryCount(_:)``); it counts only on a redelivery from a quorum queue.
    var deliveryCount: Int?

    /// The delivery arrived: a stopping child takes no new task (prefetched ones go back).
    func received(stopping: Bool) -> DeliveryDecision {
        stopping ? .requeue : .proceed
    }

    /// The body or headers cannot be read as a task: dead-lettered as `malformed`, no reply
    /// (there is no task to reply for). `name` is the `task` header, else the routing key.
    func undecodable(_ error: EnvelopeError, name: String) -> DeliveryDecision {
        .deadLetter(
            DeadLetterPlan(
                reason: .malformed, errorType: "EnvelopeError", message: error.message, task: name, attempts: 0, reply: nil,
                cause: .undecodable(taskID: error.taskID)))
    }

    /// The task was decoded. A revoked task is not run. A quorum queue's redelivery counted ``quorumRedeliveryLimit`` times
    /// or more is poison; another redelivery needs the supervisor's deaths count.
    func decoded(_ task: TaskMessage, revoked: Bool = false) -> DeliveryDecision {
        if revoked { return .revoked }
        guard redelivered else { return .proceed }
        if queueType == .quorum, let count = deliveryCount, count >= quorumRedeliveryLimit {
            let deliveries = count == .max ? "more than \(count)" : "\(count + 1)"
            return .deadLetter(
                Self.workerLost(
                    task, reason: .poison, text: "the broker delivered the task \(deliveries) times without it being acknowledged",
                    cause: .deliveredTooOften(deliveries: deliveries)))
        }
        return .askDeaths
    }

    /// The supervisor's answer for a redelivered task: ``poisonThreshold`` deaths or more is
    /// `time-limit` when the last kill was at the hard time limit, else `poison`.
    func deathsAnswered(_ deaths: TaskDeaths?, task: TaskMessage) -> DeliveryDecision {
        guard let deaths, deaths.count >= poisonThreshold else { return .proceed }
        let reason: DeadLetterReason = deaths.reason == .timeLimit ? .timeLimit : .poison
        let text =
            "the task was running when its worker process died \(deaths.count) times"
            + (reason == .timeLimit ? " (killed at the hard time limit)" : " (crashed)")
        return .deadLetter(Self.workerLost(task, reason: reason, text: text, cause: .killedChild(deaths: deaths.count)))
    }

    /// The task's name was looked up (`registered`) and its times compared with `now`. Checked
    /// in this order: unknown, expired, then its `eta` (100 ms or more ahead: wait in the
    /// broker; less: wait in memory).
    func checked(_ task: TaskMessage, registered: Bool, now: Date) -> DeliveryDecision {
        guard registered else {
            return .deadLetter(
                DeadLetterPlan(
                    reason: .unknownTask, errorType: "NotRegistered",
                    message:
                        "no task named \(ErrorText.quoted(task.name, limit: DeadLetterHeaders.maxNameBytes)) is registered in this worker",
                    task: task.name, attempts: task.retries,
                    reply: FailureReply(
                        exception: CeleryException(type: "NotRegistered", module: "celery.exceptions", message: task.name), state: .failure),
                    cause: .unknownTask))
        }
        if let (reason, message) = Canvas.problem(with: task) {
            let type = reason == .unsupported ? "NotImplementedError" : "ValueError"
            return .deadLetter(
                DeadLetterPlan(
                    reason: reason, errorType: type, message: message, task: task.name, attempts: task.retries,
                    reply: FailureReply(exception: CeleryException(type: type, message: message), state: .failure), cause: .workflow))
        }
        if let expires = task.expires, expires < now {
            return .deadLetter(
                DeadLetterPlan(
                    reason: .expired, errorType: "TaskRevokedError",
                    message: "the task expired at \(CeleryTime.format(expires)) before it could run", task: task.name,
                    attempts: task.retries,
                    reply: FailureReply(
                        exception: CeleryException(type: "TaskRevokedError", module: "celery.exceptions", message: "expired"),
                        state: .revoked),
                    cause: .expired(expires)))
        }
        if let eta = task.eta {
            let wait = eta.timeIntervalSince(now)
            if wait * 1000 >= Double(DelayedDelivery.smallestStep) { return .sendToWait(until: eta) }
            if wait > 0 { return .run(after: .seconds(wait)) }  // under 100 ms: cheaper than a round trip
        }
        return .run(after: .zero)
    }

    /// A slot is free. Stopping meanwhile: the task goes back, not run. Its connection died
    /// meanwhile: the broker has given it to another consumer already, and running it here would
    /// only make a duplicate.
    func slotAcquired(stopping: Bool, connectionFailed: Bool) -> DeliveryDecision {
        stopping || connectionFailed ? .requeue : .proceed
    }

    private static func workerLost(_ task: TaskMessage, reason: DeadLetterReason, text: String, cause: DeadLetterPlan.Cause)
        -> DeadLetterPlan
    {
        DeadLetterPlan(
            reason: reason, errorType: "WorkerLostError", message: text, task: task.name, attempts: task.retries + 1,
            reply: FailureReply(
                exception: CeleryException(type: "WorkerLostError", module: "billiard.exceptions", message: text), state: .failure),
            cause: cause)
    }
}

/// What the child does with a delivery once its handler returned or threw.
enum CompletionDecision: Equatable, Sendable {
    /// It succeeded: reply with its value, then ack.
    case ack
    /// Publish it again to run after `delay`; when it cannot be published as it is (its own
    /// headers leave no room for the retry's), dead-letter it with `ifUnsendable` instead.
    case retry(after: Duration, ifUnsendable: DeadLetterReason)
    /// No retry: reply with the failure and dead-letter it for this reason.
    case deadLetter(DeadLetterReason)

    /// The decision for a handler's `result` on attempt number `attempt` (1 for the first run).
    ///
    /// `TaskError.fail` is `failed` and arguments that do not fit the handler (an
    /// ``EnvelopeError``) are `malformed`, whatever the attempt. Anything else is retried while
    /// `policy` allows, after `TaskError.retry`'s own delay or the policy's backoff (drawn with
    /// `random`, only then), and past the last attempt is `time-limit` for a handler cancelled
    /// at its soft time limit, else `max-retries`.
    init(_ result: Result<JSONValue, any Error>, attempt: Int, policy: RetryPolicy, random: () -> Double) {
        switch result {
        case .success: self = .ack
        case .failure(let error): self.init(failure: error, attempt: attempt, policy: policy, random: random)
        }
    }

    /// The decision for a handler that threw `error`; see ``init(_:attempt:policy:random:)``.
    init(failure error: any Error, attempt: Int, policy: RetryPolicy, random: () -> Double) {
        var requestedDelay: Duration?
        var finalReason = DeadLetterReason.maxRetries
        switch error {
        case let e as TaskError:
            guard case .retry(let after) = e.action else {
                self = .deadLetter(.failed)
                return
            }
            requestedDelay = after
        case is EnvelopeError:  // the arguments do not fit the handler: no retry can fix that
            self = .deadLetter(.malformed)
            return
        case is TimeLimitExceeded:
            finalReason = .timeLimit
        default:
            break
        }
        guard policy.allowsRetry(afterAttempt: attempt) else {
            self = .deadLetter(finalReason)
            return
        }
        self = .retry(after: requestedDelay ?? policy.delay(forAttempt: attempt, random: random), ifUnsendable: .malformed)
    }
}
