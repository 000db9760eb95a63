/// A failure of the worker itself (not of a task).
public struct WorkerError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, for code that handles them differently.
    public enum Code: Sendable, Hashable {
        /// A child process could not be started (pipes, posix_spawn).
        case spawnFailed
        /// The broker cancelled a child's consumer (its queue was deleted, or its node went down).
        case consumerCancelled
        /// The metrics endpoint could not be read (`status`): refused, timed out, too large, bad answer.
        case metricsUnavailable
        /// A setting the runtime cannot use as given (a host name where an address is needed).
        case invalidSetting
        /// Anything else.
        case other
    }

    /// What kind of failure.
    public var code: Code
    /// What went wrong.
    public var description: String

    /// A failure of `code`.
    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// A failure of no particular kind.
    init(_ description: String) {
        self.init(.other, description)
    }
}
