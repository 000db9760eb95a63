/// An AMQP topic pattern, as a topic exchange matches binding keys: words separated by `.`,
/// where `*` stands for exactly one word and `#` for zero or more words.
///
/// Matching follows RabbitMQ's topic exchange exactly: `#` alone matches every routing key,
/// the empty one included; `a.#` matches `a`; `#.a` matches `a`; `a.#.b` matches `a.b`;
/// `a.*` does not match `a`.
///
/// Parsing is stricter than the broker, which takes any binding key: Warren refuses patterns
/// that are almost certainly mistakes, so that a route that can never match does not go
/// unnoticed. An empty pattern, an empty word (`a..b`, `.a`, `a.`), a wildcard inside a word
/// (`a.*b`, `a#`), whitespace, and more than 255 bytes are refused.
public struct TopicPattern: Sendable, Hashable, CustomStringConvertible {
    /// One word of a pattern.
    public enum Word: Sendable, Hashable {
        /// A word that matches itself only.
        case literal(String)
        /// `*`: exactly one word.
        case star
        /// `#`: zero or more words.
        case hash
    }

    /// The words, in order.
    public let words: [Word]
    /// The pattern as written.
    public let description: String

    /// Reads a pattern.
    ///
    /// - Parameter pattern: The pattern, for example `notify.*` or `report.#`.
    /// - Returns: `nil` when the pattern is not valid; ``validationMessage(for:)`` says why.
    public init?(_ pattern: String) {
        guard case .success(let parsed) = Self.parse(pattern) else { return nil }
        self = parsed
    }

    private init(words: [Word], description: String) {
        self.words = words
        self.description = description
    }

    /// Why `pattern` is not a valid topic pattern, or `nil` when it is.
    ///
    /// - Parameter pattern: The pattern to check.
    /// - Returns: A sentence such as `"*" and "#" must stand alone between dots, as in a.*.b`.
    public static func validationMessage(for pattern: String) -> String? {
        if case .failure(let reason) = parse(pattern) { return reason.message }
        return nil
    }

    /// Whether this pattern matches `routingKey`, as RabbitMQ's topic exchange decides.
    ///
    /// - Parameter routingKey: Any routing key; the empty key has no words.
    public func matches(_ routingKey: String) -> Bool {
        let keyWords = routingKey.isEmpty ? [] : routingKey.split(separator: ".", omittingEmptySubsequences: false)
        // reachable[j]: the pattern words seen so far can match exactly the first j key words.
        var reachable = [Bool](repeating: false, count: keyWords.count + 1)
        reachable[0] = true
        for word in words {
            var next = [Bool](repeating: false, count: keyWords.count + 1)
            switch word {
            case .hash:
                var any = false
                for j in 0...keyWords.count {
                    any = any || reachable[j]
                    next[j] = any
                }
            case .star:
                for j in stride(from: 1, through: keyWords.count, by: 1) { next[j] = reachable[j - 1] }
            case .literal(let literal):
                for j in stride(from: 1, through: keyWords.count, by: 1) {
                    next[j] = reachable[j - 1] && keyWords[j - 1] == literal
                }
            }
            reachable = next
        }
        return reachable[keyWords.count]
    }

    /// Whether `name` can be bound as an exact routing key: a valid pattern without wildcards.
    /// A task name such as `report.*` would bind as a wildcard and take other tasks' messages.
    public static func isExactRoutingKey(_ name: String) -> Bool {
        guard let pattern = TopicPattern(name) else { return false }
        return pattern.words.allSatisfy { if case .literal = $0 { true } else { false } }
    }

    /// Why a pattern was refused.
    struct SyntaxError: Error, Equatable {
        var message: String
    }

    /// Reads `pattern`, or says why it is not valid.
    static func parse(_ pattern: String) -> Result<TopicPattern, SyntaxError> {
        func failure(_ message: String) -> Result<TopicPattern, SyntaxError> { .failure(SyntaxError(message: message)) }
        if pattern.isEmpty { return failure("a pattern must not be empty; # matches every task") }
        if pattern.utf8.count > 255 { return failure("a pattern is limited to 255 bytes") }
        if pattern.contains(where: \.isWhitespace) { return failure("a pattern must not contain spaces") }
        var words: [Word] = []
        for word in pattern.split(separator: ".", omittingEmptySubsequences: false) {
            switch word {
            case "":
                return failure("empty word: dots separate words, so no dot may start or end a pattern or follow another")
            case "*":
                words.append(.star)
            case "#":
                words.append(.hash)
            case _ where word.contains("*") || word.contains("#"):
                return failure("* and # must stand alone between dots, as in a.*.b")
            default:
                words.append(.literal(String(word)))
            }
        }
        return .success(TopicPattern(words: words, description: pattern))
    }
}
