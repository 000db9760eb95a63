import Foundation
import Logging
import WarrenCore

/// What a handler knows about the task it runs.
public struct TaskContext: Sendable {
    /// The task id (Celery's `id` header; the same on every retry).
    public var id: String
    /// The task name, e.g. `email.send`.
    public var name: String
    /// Which run this is: 1 the first time, 2 on the first retry, ... (Celery's `retries` + 1).
    public var attempt: Int
    /// The queue the task was consumed from.
    public var queue: String
    /// `true` when the broker delivered this message before (a worker died or gave it back):
    /// the task may have run, in part or whole. Handlers with side effects should be idempotent.
    public var redelivered: Bool
    /// When the task was asked to run, if it was scheduled (`eta` or `countdown`).
    public var eta: Date?
    /// After this time the task is no longer wanted.
    public var expires: Date?
    /// A logger whose metadata names the task (`task.id`, `task.name`, `task.attempt`, `queue`).
    public var logger: Logger
    /// The whole decoded message, for handlers that need headers or the raw arguments.
    public var message: TaskMessage

    /// The task that sent this one, if it is a step of a chain, a callback or an errback
    /// (Celery's `parent_id`).
    public var parentID: String? { message.parentID }
    /// The first task of the workflow this one belongs to (Celery's `root_id`; its own id when
    /// it started the workflow).
    public var rootID: String? { message.rootID }
    /// The group this task is part of, and its place in it (Celery's `group`, `group_index`).
    public var group: (id: String, index: Int?)? { message.group.map { ($0, message.groupIndex) } }

    /// `true` once the task should stop: the time limit passed or the worker shuts down.
    /// Long handlers should check it (or use `try Task.checkCancellation()`) between steps.
    public var isCancelled: Bool { Task.isCancelled }
}

/// Errors a handler throws to say how its failure should be handled. Any other error is
/// retried per the retry policy.
public struct TaskError: Error, Sendable, CustomStringConvertible {
    /// What to do with the task.
    public enum Action: Sendable, Hashable {
        /// Retry, after this delay (`nil`: the policy's backoff).
        case retry(after: Duration?)
        /// Fail now, without retrying: the task is dead-lettered with reason `failed`.
        case fail
    }

    /// What to do with the task.
    public var action: Action
    /// Why, for the logs, the dead-letter headers and the caller's exception.
    public var message: String

    /// Retries the task after `delay` (or the policy's backoff), counting an attempt.
    public static func retry(after delay: Duration? = nil, _ message: String = "retry requested") -> TaskError {
        TaskError(action: .retry(after: delay), message: message)
    }

    /// Fails the task for good: no retry, dead-lettered with reason `failed`.
    public static func fail(_ message: String) -> TaskError {
        TaskError(action: .fail, message: message)
    }

    public var description: String { message }
}

extension TaskError: CeleryExceptionConvertible {
    /// Python callers see a `RuntimeError` with the message.
    public var celeryException: CeleryException { CeleryException(type: "RuntimeError", message: message) }
}
