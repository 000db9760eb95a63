import AMQP
import Foundation
import WarrenCore

/// A message waiting in the dead-letter queue (or the unrouted queue), with what its headers say
/// about why it is there: what `dlq list` shows and what `dlq replay` and `dlq purge` select on.
///
/// Read one from a delivery with ``init(delivery:)``. Three kinds of message are understood:
/// - dead-lettered by a Warren worker: the `x-warren-*` headers say everything (reason, error,
///   task, original queue, exchange and routing key, attempts, first and last failure);
/// - dead-lettered by RabbitMQ (a TTL ran out, a consumer rejected it, a queue was full, a
///   delivery limit was hit): the newest `x-death` entry gives the reason, queue and time;
/// - neither, as in the unrouted queue, where the alternate exchange keeps the exchange and
///   routing key a message was published with: the reason is ``unroutedReason``.
///
/// The delivery itself is kept as it came, so the body and properties can be sent on unchanged.
package struct DeadLetter: Sendable {
    /// The message as `basic.get` returned it.
    package var delivery: AMQPDelivery
    /// Why it is here: a ``DeadLetterReason`` raw value (`failed`, `max-retries`, `expired`,
    /// `poison`, `malformed`, `unknown-task`, `time-limit`), ``maxLengthReason``,
    /// ``unroutedReason`` or ``unknownReason``. See ``knownReasons``.
    package var reason: String
    /// The broker's own word when RabbitMQ dead-lettered it (`expired`, `rejected`, `maxlen`,
    /// `delivery_limit`), else `nil`.
    package var brokerReason: String?
    /// The task name: `x-warren-task`, else the Celery `task` header, else the routing key it
    /// was published to an exchange with (publishers use the task name); `nil` when unknown.
    package var task: String?
    /// The task id: the `id` header, else `correlation_id`, else `message_id`.
    package var taskID: String?
    /// Attempts made: `x-warren-attempts`, else the `retries` header (attempts before this one).
    package var attempts: Int?
    /// The queue it failed in (`x-warren-queue`, else the queue RabbitMQ dead-lettered it from).
    package var originalQueue: String?
    /// The exchange it was first published to (`""` for the default exchange).
    package var originalExchange: String?
    /// The routing key it was first published with.
    package var originalRoutingKey: String?
    /// The type of the error that ended it (`RuntimeError`, `NotRegistered`, ...), when a worker said.
    package var errorType: String?
    /// The error text, when a worker said.
    package var error: String?
    /// When it first failed.
    package var firstFailure: Date?
    /// When it last failed.
    package var lastFailure: Date?
    /// When it arrived here: its last failure, the broker's dead-lettering time, or (unrouted)
    /// its publish timestamp. `nil` when nothing says.
    package var deadLetteredAt: Date?
    /// The `x-death` entries, most recent first.
    package var deaths: [DeathRecord]

    /// Creates a dead letter from parts (``init(delivery:)`` reads them from a delivery).
    package init(
        delivery: AMQPDelivery, reason: String, brokerReason: String? = nil, task: String? = nil, taskID: String? = nil,
        attempts: Int? = nil, originalQueue: String? = nil, originalExchange: String? = nil,
        originalRoutingKey: String? = nil, errorType: String? = nil, error: String? = nil, firstFailure: Date? = nil,
        lastFailure: Date? = nil, deadLetteredAt: Date? = nil, deaths: [DeathRecord] = []
    ) {
        self.delivery = delivery
        self.reason = reason
        self.brokerReason = brokerReason
        self.task = task
        self.taskID = taskID
        self.attempts = attempts
        self.originalQueue = originalQueue
        self.originalExchange = originalExchange
        self.originalRoutingKey = originalRoutingKey
        self.errorType = errorType
        self.error = error
        self.firstFailure = firstFailure
        self.lastFailure = lastFailure
        self.deadLetteredAt = deadLetteredAt
        self.deaths = deaths
    }

    /// How long ago it was dead-lettered, or `nil` when ``deadLetteredAt`` is unknown.
    package func age(now: Date = Date()) -> Duration? {
        deadLetteredAt.map { .milliseconds(Int64((now.timeIntervalSince($0) * 1000).rounded())) }
    }

    /// RabbitMQ dropped it from the head of a full queue (`x-overflow: drop-head`).
    package static let maxLengthReason = "maxlen"
    /// No binding took it: the exchange's alternate exchange sent it to the unrouted queue.
    package static let unroutedReason = "unrouted"
    /// Nothing in the message says why it is here (published straight into the queue?).
    package static let unknownReason = "unknown"

    /// Every reason ``reason`` can hold, for validating a `--reason` filter.
    package static let knownReasons: [String] =
        DeadLetterReason.allCases.map(\.rawValue) + [maxLengthReason, unroutedReason, unknownReason]

    /// Warren's reason for a reason RabbitMQ gave in `x-death`: `expired` stays `expired`,
    /// `rejected` (a consumer refused it for good) is `failed`, `delivery_limit` (a quorum
    /// queue's redelivery limit) is `poison`, `maxlen` stays `maxlen`; others are kept as they are.
    package static func reason(forBrokerReason brokerReason: String) -> String {
        switch brokerReason {
        case "expired": DeadLetterReason.expired.rawValue
        case "rejected": DeadLetterReason.failed.rawValue
        case "delivery_limit": DeadLetterReason.poison.rawValue
        default: brokerReason
        }
    }
}
