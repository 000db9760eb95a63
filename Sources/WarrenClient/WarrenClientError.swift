/// Why a send or a wait for a result failed (a task that ran and failed is `TaskFailed`).
public struct WarrenClientError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, for code that handles them differently.
    public enum Code: Sendable, Hashable {
        /// The connection failed after the task went out and before the broker's confirm: it may
        /// or may not be in its queue. Send it again if a duplicate is better than a loss.
        case notConfirmed
        /// The broker refused the task (`basic.nack`), for example a queue over its length limit.
        case refused
        /// The broker could not route the task to a queue (a `queue` option naming no queue).
        case unroutable
        /// No broker could be reached within the client's reconnect patience.
        case unreachable
        /// No result came within the timeout. The task may still run.
        case timedOut
        /// The client is closed (or closing): it takes no more sends, and waits end.
        case closed
        /// The task was sent without a reply queue (`awaitsResult: false`): it has no result.
        case noResult
        /// The result came but does not decode into the handle's `Result` type.
        case undecodableResult
        /// The task could not be encoded (arguments that are not a JSON object, say).
        case invalidTask
    }

    /// What kind of failure.
    public var code: Code
    /// What happened, with the task's name and id when there is one.
    public var description: String

    /// A failure of `code`.
    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
