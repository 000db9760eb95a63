/// Why a message went to the dead-letter queue: the `x-warren-reason` of a dead letter, and the
/// filter of `dlq list` and `dlq replay`.
///
/// The raw values are the strings documented in docs/dead-letters.md (`failed`, `max-retries`, `expired`,
/// `poison`, `malformed`, `unknown-task`, `time-limit`, `unsupported`). New reasons may be added; compare with
/// `==` rather than switching exhaustively over ``allCases``.
public struct DeadLetterReason: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    private enum Base: String, CaseIterable, Sendable {
        case failed
        case maxRetries = "max-retries"
        case expired
        case poison
        case malformed
        case unknownTask = "unknown-task"
        case timeLimit = "time-limit"
        case unsupported
    }

    private let base: Base

    private init(_ base: Base) { self.base = base }

    /// The reason for a raw value such as `max-retries`, or `nil` when Warren does not know it.
    public init?(rawValue: String) {
        guard let base = Base(rawValue: rawValue) else { return nil }
        self.base = base
    }

    /// The wire form, e.g. `max-retries`.
    public var rawValue: String { base.rawValue }

    public var description: String { base.rawValue }

    /// The handler threw an error it marked as not retryable (`failed`).
    public static let failed = DeadLetterReason(.failed)
    /// The handler kept failing until the last attempt the retry policy allows (`max-retries`).
    public static let maxRetries = DeadLetterReason(.maxRetries)
    /// The task's `expires` time passed before it could run (`expired`).
    public static let expired = DeadLetterReason(.expired)
    /// Delivering the message killed the child again and again (`poison`).
    public static let poison = DeadLetterReason(.poison)
    /// The message cannot be decoded as a task (`malformed`): wrong content type, bad JSON,
    /// headers of the wrong type, arguments that do not fit the handler.
    public static let malformed = DeadLetterReason(.malformed)
    /// The message names a task this binary does not register (`unknown-task`).
    public static let unknownTask = DeadLetterReason(.unknownTask)
    /// The handler ran past its hard time limit (`time-limit`).
    public static let timeLimit = DeadLetterReason(.timeLimit)
    /// The task asks for something Warren does not do (a chord), and was not run.
    public static let unsupported = DeadLetterReason(.unsupported)

    /// Every reason Warren knows, in the order docs/dead-letters.md lists them.
    public static let allCases: [DeadLetterReason] = Base.allCases.map(DeadLetterReason.init)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let reason = DeadLetterReason(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown dead-letter reason '\(raw)'")
        }
        self = reason
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
