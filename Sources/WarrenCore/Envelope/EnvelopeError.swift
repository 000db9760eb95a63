/// The one error of the envelope: a message that cannot be read as a task (or as a task's reply).
///
/// Every envelope error dead-letters the message with reason ``DeadLetterReason/malformed``
/// (``reason``); ``message`` says what was wrong in words an operator can act on, naming the
/// header, content type or argument at fault, for example
/// `header 'retries' must be an integer, got string "3"`.
public struct EnvelopeError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case unsupportedContent, tooLarge, invalidJSON, invalidHeader, invalidBody
            case invalidArguments, invalidReply
        }
        private let base: Base

        /// A content type, content encoding or compression Warren does not read (pickle, YAML,
        /// msgpack, zlib, a charset other than UTF-8).
        public static let unsupportedContent = Code(base: .unsupportedContent)
        /// The body is larger than the decoder's limit.
        public static let tooLarge = Code(base: .tooLarge)
        /// The body is not valid UTF-8 JSON, or nests deeper than the decoder's limit.
        public static let invalidJSON = Code(base: .invalidJSON)
        /// A header has the wrong type or an unreadable value (`retries` as a string, a bad `eta`).
        public static let invalidHeader = Code(base: .invalidHeader)
        /// The body is JSON but not a task body (`[args, kwargs, embed]` or an object of kwargs).
        public static let invalidBody = Code(base: .invalidBody)
        /// The arguments do not fit the handler's argument type.
        public static let invalidArguments = Code(base: .invalidArguments)
        /// A result reply (Celery `rpc://` format) that cannot be read.
        public static let invalidReply = Code(base: .invalidReply)

        public var description: String { base.rawValue }
    }

    /// What kind of problem this is.
    public var code: Code
    /// What was wrong, for logs and for the dead letter's error text.
    public var message: String
    /// The task name, when it was known before the problem was found.
    public var taskName: String?
    /// The task id, when it was known before the problem was found.
    public var taskID: String?

    /// The dead-letter reason for this error: always ``DeadLetterReason/malformed``.
    public var reason: DeadLetterReason { .malformed }

    /// Creates an error.
    /// - Parameters:
    ///   - code: What kind of problem this is.
    ///   - message: What was wrong.
    ///   - taskName: The task name, if known.
    ///   - taskID: The task id, if known.
    public init(_ code: Code, _ message: String, taskName: String? = nil, taskID: String? = nil) {
        self.code = code
        self.message = message
        self.taskName = taskName
        self.taskID = taskID
    }

    public var description: String {
        var context: [String] = []
        // Names and ids come from the message: escaped and cut, so the text stays one line.
        if let taskName { context.append("task \(ErrorText.escaped(taskName, limit: 100))") }
        if let taskID { context.append("id \(ErrorText.escaped(taskID, limit: 100))") }
        return context.isEmpty ? message : "\(message) (\(context.joined(separator: ", ")))"
    }
}
