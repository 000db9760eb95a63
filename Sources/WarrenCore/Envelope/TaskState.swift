/// A Celery task state (`celery/states.py`), as the `status` of a result reply.
///
/// Unknown states read from the wire are kept as they are.
public struct TaskState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The state's name, e.g. `SUCCESS`.
    public let rawValue: String

    /// The state with this name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Not yet known.
    public static let pending = TaskState(rawValue: "PENDING")
    /// Received by a worker.
    public static let received = TaskState(rawValue: "RECEIVED")
    /// Started (with `task_track_started`).
    public static let started = TaskState(rawValue: "STARTED")
    /// Finished; the result is the return value.
    public static let success = TaskState(rawValue: "SUCCESS")
    /// Failed; the result is the exception.
    public static let failure = TaskState(rawValue: "FAILURE")
    /// Revoked; the result is the exception.
    public static let revoked = TaskState(rawValue: "REVOKED")
    /// Rejected by the worker.
    public static let rejected = TaskState(rawValue: "REJECTED")
    /// Failed and to be retried; the result is the exception.
    public static let retry = TaskState(rawValue: "RETRY")
    /// Ignored.
    public static let ignored = TaskState(rawValue: "IGNORED")

    /// `true` for the final states `SUCCESS`, `FAILURE` and `REVOKED` (Celery's `READY_STATES`).
    public var isReady: Bool { self == .success || self == .failure || self == .revoked }

    /// `true` for `FAILURE` and `REVOKED`, whose result `AsyncResult.get()` raises
    /// (Celery's `PROPAGATE_STATES`).
    public var propagates: Bool { self == .failure || self == .revoked }

    public var description: String { rawValue }
}
