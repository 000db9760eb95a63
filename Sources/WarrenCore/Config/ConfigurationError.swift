/// A configuration that Warren refuses, with every problem found in it.
///
/// The loader does not stop at the first mistake: ``problems`` lists all of them, in the order
/// they appear in the file, and ``description`` prints one per line in the form compilers use:
///
/// ```
/// Config/warren.yaml:12:5: queues.slow.time_limit: expected a duration like 30s or 10m, got "ten minutes"
/// Config/warren.yaml:20:5: queues.bigmem.prefech: unknown key, did you mean "prefetch"?
/// ```
///
/// A program that refuses to start because of this error should exit with ``exitStatus``.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case unreadable, syntax, invalid
        }
        private let base: Base

        /// The file could not be read: missing, a directory, no permission, not UTF-8.
        public static let unreadable = Code(base: .unreadable)
        /// The text is not valid YAML (Yams' parser refused it).
        public static let syntax = Code(base: .syntax)
        /// The YAML is fine but a key or a value is not: unknown key, wrong type, value out of range.
        public static let invalid = Code(base: .invalid)

        /// The code's name: `unreadable`, `syntax` or `invalid`.
        public var description: String { base.rawValue }
    }

    /// One thing wrong with the configuration, with where it is.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The file the problem is in (as given to the loader), or `environment` for a problem
        /// in an environment variable.
        public var source: String
        /// The line, starting at 1, when known.
        public var line: Int?
        /// The column, starting at 1 and counted in Unicode scalars, when known.
        public var column: Int?
        /// The key the problem is about, dotted from the top: `queues.slow.time_limit`,
        /// `queues.latency.routes[0]`, `queues["a.b"].children`. Empty for the whole file.
        public var keyPath: String
        /// What is wrong, usually what was expected and what was found.
        public var message: String

        /// Creates a problem.
        public init(source: String, line: Int? = nil, column: Int? = nil, keyPath: String, message: String) {
            self.source = source
            self.line = line
            self.column = column
            self.keyPath = keyPath
            self.message = message
        }

        /// `file:line:column: key.path: message`, leaving out the parts that are unknown.
        public var description: String {
            var location = source
            if let line {
                location += ":\(line)"
                if let column { location += ":\(column)" }
            }
            return keyPath.isEmpty ? "\(location): \(message)" : "\(location): \(keyPath): \(message)"
        }
    }

    /// The exit status of a program that refuses its configuration: 78, `EX_CONFIG` from
    /// `sysexits.h`. The systemd unit names it in `RestartPreventExitStatus=` so that a wrong
    /// file is not restarted in a loop.
    public static let exitStatus: Int32 = 78

    /// What kind of failure this is. When the problems are of several kinds, the most basic
    /// one: ``Code/unreadable``, then ``Code/syntax``, then ``Code/invalid``.
    public var code: Code
    /// Every problem found, in the order of the file (problems without a line come last).
    public var problems: [Problem]

    /// Creates an error.
    public init(_ code: Code, problems: [Problem]) {
        self.code = code
        self.problems = problems
    }

    /// One problem per line.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
