/// A task as a type, shared by the application that sends it and the worker that runs it.
///
/// ```swift
/// struct SendEmail: TaskDefinition {
///     static let name = "mail.send"
///     static let argumentNames = ["to", "subject"]   // def send(to, subject) for Python callers
///     typealias Result = Receipt
///     var to: String
///     var subject: String
/// }
///
/// // In the web app (WarrenClient):
/// let receipt = try await client.send(SendEmail(to: "ada@example.com", subject: "Hi")).result()
/// // In the worker (Warren):
/// worker.register(SendEmail.self) { job, ctx in try await mailer.send(job) }
/// ```
///
/// On the wire it is an ordinary Celery v2 task: the stored properties travel as `kwargs`, so a
/// Python Celery worker with `def send(to, subject)` runs it as well. A Celery client that calls
/// it with positional arguments is understood through ``PositionalArguments/argumentNames``.
public protocol TaskDefinition: Codable, Sendable, PositionalArguments {
    /// What the task returns to a caller that awaits it; `JSONValue` unless the type says.
    associatedtype Result: Codable & Sendable = JSONValue
    /// The task name: the routing key publishers use and the name workers register.
    static var name: String { get }
}

extension TaskDefinition {
    /// No positional names: the task takes keyword arguments only.
    public static var argumentNames: [String] { [] }

    /// The task as a Celery v2 message with a fresh id: its stored properties as `kwargs`.
    /// - Throws: ``EnvelopeError`` when the type does not encode to a JSON object (a task's
    ///   arguments are keyword arguments: encode a struct, not a bare value or an array).
    public func message() throws(EnvelopeError) -> TaskMessage {
        let encoded: JSONValue
        do {
            encoded = try JSONValueEncoder().encode(self)
        } catch {
            throw EnvelopeError(.invalidArguments, "\(Self.self) does not encode to JSON: \(error)")
        }
        guard case .object(let kwargs) = encoded else {
            throw EnvelopeError(.invalidArguments, "\(Self.self) encodes to \(encoded.kindName), not to an object of keyword arguments")
        }
        return TaskMessage(name: Self.name, kwargs: kwargs)
    }

    /// The task a message carries: its `kwargs`, and its positional `args` bound to
    /// ``PositionalArguments/argumentNames``.
    /// - Throws: ``EnvelopeError`` naming the argument that does not fit.
    public init(from message: TaskMessage) throws(EnvelopeError) {
        self = try TaskArguments.decode(Self.self, args: message.args, kwargs: message.kwargs)
    }
}
