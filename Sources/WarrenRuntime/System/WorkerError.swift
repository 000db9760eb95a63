/// A failure of the worker itself (not of a task).
public struct WorkerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var description: String
    init(_ description: String) { self.description = description }
}
