import AMQP
import Foundation
import WarrenCore

/// How to send one task: when it may run, until when, where it goes, and whether its result
/// is awaited. Every option is off by default; the routes decide the queue.
public struct TaskOptions: Sendable {
    /// The task id; a fresh UUID when `nil`. Sending again with the same id is how a caller makes
    /// a retry of its own send recognisable.
    public var taskID: String?
    /// Run no sooner than this long after sending (waits in the broker, not in a worker).
    public var countdown: Duration?
    /// Run no sooner than this time.
    public var eta: Date?
    /// Do not run after this long from sending: dead-lettered as `expired` instead.
    public var expires: Duration?
    /// Do not run after this time.
    public var expiresAt: Date?
    /// The message priority (0-255; only priority queues use it).
    public var priority: UInt8?
    /// Time limits for this task, lowering (never raising) its queue's.
    public var timeLimit: TaskTimeLimit?
    /// Send straight to this queue (through the default exchange) instead of through the routes,
    /// as Celery's `apply_async(queue=...)` does. A queue that does not exist is an error.
    public var queue: String?
    /// Send to this exchange instead of the client's.
    public var exchange: String?
    /// Send with this routing key instead of the task name.
    public var routingKey: String?
    /// Extra AMQP headers (your own, or trace context); Celery's own headers win over them. A
    /// `traceparent` here is sent as it is, instead of the current trace context.
    public var headers: AMQPTable
    /// Whether a result is awaited: the task carries the client's reply queue. `false` sends it
    /// with `ignore_result`, and its handle has no result.
    public var awaitsResult: Bool
    /// Tasks to run after this one succeeded, each with its result first in its args (Celery's
    /// `link`). Give one an `id` and this client's reply queue to await its result.
    public var link: [TaskSignature]
    /// Tasks to run after this one failed for good, each with its id first in its args (Celery's
    /// `link_error`).
    public var linkError: [TaskSignature]

    /// Options; every one defaults to off, and the result is awaited.
    public init(
        taskID: String? = nil, countdown: Duration? = nil, eta: Date? = nil, expires: Duration? = nil, expiresAt: Date? = nil,
        priority: UInt8? = nil, timeLimit: TaskTimeLimit? = nil, queue: String? = nil, exchange: String? = nil,
        routingKey: String? = nil, headers: AMQPTable = [:], awaitsResult: Bool = true, link: [TaskSignature] = [],
        linkError: [TaskSignature] = []
    ) {
        self.taskID = taskID
        self.countdown = countdown
        self.eta = eta
        self.expires = expires
        self.expiresAt = expiresAt
        self.priority = priority
        self.timeLimit = timeLimit
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
        self.headers = headers
        self.awaitsResult = awaitsResult
        self.link = link
        self.linkError = linkError
    }

    /// `message` with these options applied (at `now`, for countdown and expiry).
    func applied(to message: TaskMessage, now: Date = Date()) -> TaskMessage {
        var message = message
        if let taskID {
            message.id = taskID
            message.correlationID = taskID
        }
        if let countdown { message.eta = now.addingTimeInterval(countdown.seconds) } else if let eta { message.eta = eta }
        if let expires { message.expires = now.addingTimeInterval(expires.seconds) } else if let expiresAt { message.expires = expiresAt }
        if let priority { message.priority = priority }
        if let timeLimit { message.timeLimit = timeLimit }
        for (key, value) in headers where message.headers[key] == nil { message.headers[key] = value }
        if !link.isEmpty || !linkError.isEmpty {
            var embed = message.embed.objectValue ?? TaskMessage.emptyEmbed.objectValue ?? [:]
            if !link.isEmpty { embed["callbacks"] = .array(link.map(\.json)) }
            if !linkError.isEmpty { embed["errbacks"] = .array(linkError.map(\.json)) }
            message.embed = .object(embed)
        }
        return message
    }

    /// The exchange and routing key for `task`: a queue straight through the default exchange,
    /// else the given exchange and key, else `exchange` with the task name.
    func destination(exchange defaultExchange: String, task: String) -> (exchange: String, routingKey: String) {
        if let queue { return ("", queue) }
        return (exchange ?? defaultExchange, routingKey ?? task)
    }
}
