#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads a Warren config file into a ``WarrenConfiguration``, or refuses it with every problem.
///
/// Loading never touches the network: a wrong file is refused before anything connects. The
/// steps are: parse the YAML with Yams (a syntax error stops here, with its line), read every
/// key (unknown keys, wrong types, bad durations, sizes, URLs and route patterns are all
/// collected), apply the environment, then check ranges and relations
/// (``WarrenConfiguration/validate()``). Any problem throws a ``ConfigurationError`` listing
/// them all, each with file, line, column and key path.
///
/// The environment is a parameter, never read behind the caller's back: pass
/// `ProcessInfo.processInfo.environment` in a program and a literal in tests.
///
/// - `WARREN_BROKER_URL` replaces `broker.url`. It may hold several URLs separated by commas.
///   An empty value counts as unset.
/// - `WARREN_BROKER_PASSWORD_FILE` replaces `broker.password_file`. An empty value counts as
///   unset.
///
/// The password file (`broker.password_file` or `WARREN_BROKER_PASSWORD_FILE`) is read here, by
/// every process that loads the config (the supervisor at start and at each reload, each child
/// as it starts): its text, trailing line breaks left out, replaces the password of every broker
/// URL. A file that is missing, unreadable, empty or longer than one line is a problem like any
/// other. What it holds never appears in a message.
public enum ConfigLoader {
    /// The environment variable that replaces `broker.url`: `WARREN_BROKER_URL`.
    public static let brokerURLVariable = "WARREN_BROKER_URL"
    /// The environment variable that replaces `broker.password_file`:
    /// `WARREN_BROKER_PASSWORD_FILE`. With systemd credentials:
    /// `Environment=WARREN_BROKER_PASSWORD_FILE=%d/broker-password`.
    public static let brokerPasswordFileVariable = "WARREN_BROKER_PASSWORD_FILE"
    /// The environment variable that names the config file when `--config` is not given:
    /// `WARREN_CONFIG`.
    public static let configPathVariable = "WARREN_CONFIG"
    /// The config file used when neither `--config` nor `WARREN_CONFIG` names one.
    public static let defaultPath = "Config/warren.yaml"

    /// The config file to read when the command line names none: `WARREN_CONFIG` when set and
    /// not empty, else ``defaultPath``.
    public static func defaultPath(environment: [String: String]) -> String {
        if let path = environment[configPathVariable], !path.isEmpty { return path }
        return defaultPath
    }

    /// Reads and checks the config file at `path`.
    ///
    /// - Parameters:
    ///   - path: The file to read. Problems name it as given.
    ///   - environment: The process environment (see ``ConfigLoader``).
    /// - Returns: The configuration, every default applied.
    /// - Throws: ``ConfigurationError``: ``ConfigurationError/Code/unreadable`` when the file
    ///   cannot be read, ``ConfigurationError/Code/syntax`` for invalid YAML,
    ///   ``ConfigurationError/Code/invalid`` for everything else.
    public static func load(path: String, environment: [String: String]) throws(ConfigurationError) -> WarrenConfiguration {
        try load(yaml: readFile(path), source: path, environment: environment)
    }

    /// Reads and checks a configuration given as YAML text.
    ///
    /// - Parameters:
    ///   - yaml: The YAML text.
    ///   - source: The name problems give as the file, for example the path it came from.
    ///   - environment: The process environment (see ``ConfigLoader``).
    /// - Returns: The configuration, every default applied.
    /// - Throws: ``ConfigurationError``: ``ConfigurationError/Code/syntax`` for invalid YAML,
    ///   ``ConfigurationError/Code/invalid`` for everything else.
    public static func load(
        yaml: String, source: String = "<config>", environment: [String: String]
    ) throws(ConfigurationError) -> WarrenConfiguration {
        let root: Node?
        do {
            // The basic resolver tags every plain scalar `str`: ConfigReader reads scalars' text
            // itself. The default one matches each scalar against regular expressions
            // (NSRegularExpression, so ICU), which costs every child megabytes of memory.
            root = try Yams.compose(yaml: yaml, .basic)
        } catch {
            throw ConfigurationError(.syntax, problems: withinText([syntaxProblem(error, yaml: yaml, source: source)], yaml))
        }
        guard let root else {
            throw ConfigurationError(
                .invalid,
                problems: [
                    ConfigurationError.Problem(
                        source: source, keyPath: "",
                        message: "the file is empty; it needs at least a queues mapping")
                ])
        }

        var reader = ConfigReader(source: source)
        var configuration = reader.readConfiguration(root)
        var problems = reader.problems
        problems += applyEnvironment(environment, to: &configuration)
        problems += applyPasswordFile(
            environment, to: &configuration, source: source, mark: reader.mark(for: "broker.password_file"))

        for issue in configuration.validationIssues() where !reader.shouldSkip(issue) {
            let mark = reader.mark(for: issue.path)
            problems.append(
                ConfigurationError.Problem(
                    source: source, line: mark?.line, column: mark?.column, keyPath: issue.path.description,
                    message: issue.message))
        }
        guard problems.isEmpty else {
            throw ConfigurationError(.invalid, problems: withinText(sortedByPosition(problems), yaml))
        }
        return configuration
    }

    /// Applies the environment variables; returns the problems found in them.
    private static func applyEnvironment(
        _ environment: [String: String], to configuration: inout WarrenConfiguration
    ) -> [ConfigurationError.Problem] {
        guard let value = environment[brokerURLVariable], !value.isEmpty else { return [] }
        var problems: [ConfigurationError.Problem] = []
        var urls: [BrokerURL] = []
        for part in ConfigReader.splitList(value) {
            switch BrokerURL.parse(part) {
            case .success(let url):
                urls.append(url)
            case .failure(let failure):
                let detail = failure.detail.map { " (\($0))" } ?? ""
                problems.append(
                    ConfigurationError.Problem(
                        source: "environment", keyPath: brokerURLVariable,
                        message: "expected an AMQP URL like amqp://user:password@host:5672/vhost, got "
                            + shown(part) + detail))
            }
        }
        if urls.isEmpty && problems.isEmpty {
            problems.append(
                ConfigurationError.Problem(source: "environment", keyPath: brokerURLVariable, message: "holds no URL"))
        }
        if problems.isEmpty { configuration.broker.urls = urls }
        return problems
    }

    /// Reads the password file that `WARREN_BROKER_PASSWORD_FILE`, else `broker.password_file`
    /// (at `mark` in `source`), names, and puts the password in every broker URL; returns the
    /// problems found. The messages name the file, never what it holds.
    private static func applyPasswordFile(
        _ environment: [String: String], to configuration: inout WarrenConfiguration, source: String, mark: Mark?
    ) -> [ConfigurationError.Problem] {
        let fromEnvironment = !(environment[brokerPasswordFileVariable] ?? "").isEmpty
        if fromEnvironment { configuration.broker.passwordFile = environment[brokerPasswordFileVariable] }
        guard let path = configuration.broker.passwordFile else { return [] }
        func problem(_ message: String) -> [ConfigurationError.Problem] {
            if fromEnvironment {
                return [ConfigurationError.Problem(source: "environment", keyPath: brokerPasswordFileVariable, message: message)]
            }
            return [
                ConfigurationError.Problem(
                    source: source, line: mark?.line, column: mark?.column, keyPath: "broker.password_file", message: message)
            ]
        }
        guard !path.isEmpty else { return problem("must not be empty; leave the key out to use the password in broker.url") }
        switch readPassword(path) {
        case .success(let password):
            configuration.broker.urls = configuration.broker.urls.map { $0.replacingPassword(password) }
            return []
        case .failure(let failure):
            return problem(
                "cannot read the broker password from \(ErrorText.quoted(path, limit: ConfigKeyPath.quotedLimit)): \(failure.detail ?? "unreadable")"
            )
        }
    }

    /// The largest password file read: it holds a password, not a document.
    static let maxPasswordFileSize = 4096

    /// The password in the file at `path`: its text without trailing line breaks. A failure says
    /// why, without a word of what the file holds.
    static func readPassword(_ path: String) -> Result<String, HumanValueFailure> {
        func failure(_ detail: String) -> Result<String, HumanValueFailure> { .failure(HumanValueFailure(detail: detail)) }
        var bytes: [UInt8]
        switch readSmallFile(
            path, limit: maxPasswordFileSize, unreadable: "permission denied or I/O error (the worker's user must be able to read it)",
            tooLarge: "it is larger than \(maxPasswordFileSize / 1024) KiB; it should hold the password alone")
        {
        case .success(let read): bytes = read
        case .failure(let why): return .failure(why)
        }
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        if bytes.isEmpty { return failure("it is empty; it should hold the password") }
        if bytes.contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") || $0 == 0 }) {
            return failure("it holds more than one line; it should hold the password alone, on one line")
        }
        guard let password = String(validating: bytes, as: UTF8.self) else {
            return failure("it is not UTF-8 text")
        }
        return .success(password)
    }

    /// Problems with a line first, in line and column order; the order found otherwise.
    private static func sortedByPosition(_ problems: [ConfigurationError.Problem]) -> [ConfigurationError.Problem] {
        problems.enumerated().sorted { a, b in
            let left = (a.element.line ?? .max, a.element.column ?? 0, a.offset)
            let right = (b.element.line ?? .max, b.element.column ?? 0, b.offset)
            return left < right
        }.map(\.element)
    }

    /// Turns a Yams error into a problem with a line and column.
    private static func syntaxProblem(_ error: any Error, yaml: String, source: String) -> ConfigurationError.Problem {
        func problem(_ mark: (line: Int, column: Int)?, _ message: String) -> ConfigurationError.Problem {
            ConfigurationError.Problem(source: source, line: mark?.line, column: mark?.column, keyPath: "", message: message)
        }
        guard let yamlError = error as? YamlError else {
            return problem(nil, "invalid YAML: \(error)")
        }
        switch yamlError {
        case .scanner(let context, let text, let mark, _), .parser(let context, let text, let mark, _),
            .composer(let context, let text, let mark, _):
            let context = context.map { " (\($0.text), line \($0.mark.line) column \($0.mark.column))" } ?? ""
            return problem((mark.line, mark.column), "invalid YAML: \(text)\(context)")
        case .reader(let text, let offset, _, _):
            return problem(offset.map { markOf(characterOffset: $0, in: yaml) }, "invalid text: \(text)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            if duplicates.count == 1,
                let second = DuplicateKeyLocator.locate(key: key, line: context.mark.line, column: context.mark.column, in: yaml)
            {
                return ConfigurationError.Problem(
                    source: source, line: second.line, column: second.column, keyPath: second.keyPath.description,
                    message: "appears twice in this mapping (first on line \(context.mark.line)); keep one")
            }
            let keys = duplicates.map { ErrorText.quoted($0, limit: ConfigKeyPath.quotedLimit) }.joined(separator: ", ")
            return problem(
                (context.mark.line, context.mark.column),
                "duplicate key \(keys) in a mapping; each key may appear once")
        default:
            return problem(nil, "invalid YAML: \(yamlError)")
        }
    }

    /// The problems, each placed at the end of the text when its line is past it.
    ///
    /// libyaml moves to a new line before it ends the stream, so what it finds at the end of a
    /// text without a final line break (an unclosed `[`, a key without its `:`, the empty
    /// document after a lone `---`) it places on the line after the last one, which no editor
    /// shows. Found by fuzzing the loader.
    private static func withinText(_ problems: [ConfigurationError.Problem], _ yaml: String) -> [ConfigurationError.Problem] {
        guard problems.contains(where: { $0.line != nil }) else { return problems }
        let end = endOfText(yaml)
        return problems.map { problem in
            guard let line = problem.line, line > end.line else { return problem }
            var moved = problem
            (moved.line, moved.column) = (end.line, end.column)
            return moved
        }
    }

    /// The line and column just after the last character of `yaml`.
    private static func endOfText(_ yaml: String) -> (line: Int, column: Int) {
        // The position after the last character, counting line breaks as YAML does: LF, CR,
        // CRLF, NEL, LS and PS; columns in Unicode scalars, as libyaml counts them.
        var end = (line: 1, column: 1)
        var previous: Unicode.Scalar?
        for scalar in yaml.unicodeScalars {
            switch scalar {
            case "\n" where previous == "\r": break
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}": end = (end.line + 1, 1)
            default: end.column += 1
            }
            previous = scalar
        }
        return end
    }

    /// The line and column of the character at `offset`.
    private static func markOf(characterOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for (index, character) in text.enumerated() {
            if index == offset { break }
            if character == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }

    /// Reads a file as UTF-8 text.
    /// The first `limit` bytes of the file at `path` (all of it when shorter); `nil` when it
    /// cannot be opened or read.
    private static func readPrefix(of path: String, upTo limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count < limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, limit - bytes.count)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        return bytes
    }

    /// The largest config file read.
    package static let maxFileSize = 1 << 20

    package static func readFile(_ path: String) throws(ConfigurationError) -> String {
        func unreadable(_ reason: String) -> ConfigurationError {
            ConfigurationError(
                .unreadable, problems: [ConfigurationError.Problem(source: path, keyPath: "", message: "cannot read the file: \(reason)")])
        }
        let data: [UInt8]
        switch readSmallFile(
            path, limit: maxFileSize, unreadable: "permission denied or I/O error",
            tooLarge: "it is larger than \(maxFileSize >> 20) MiB; a Warren config is a few KiB")
        {
        case .success(let read): data = read
        case .failure(let why): throw unreadable(why.detail ?? "unreadable")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw unreadable("it is not UTF-8 text")
        }
        return text
    }

    /// The bytes of the small file at `path` (a config, a password), or why not, in an
    /// operator's words. At most one byte past `limit` is read: a huge file is refused in
    /// milliseconds, not parsed for minutes (a 100 MB config took 78 s and 2 GB before).
    private static func readSmallFile(_ path: String, limit: Int, unreadable: String, tooLarge: String) -> Result<
        [UInt8], HumanValueFailure
    > {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(HumanValueFailure(detail: "no such file"))
        }
        if isDirectory { return .failure(HumanValueFailure(detail: "it is a directory")) }
        guard let data = readPrefix(of: path, upTo: limit + 1) else { return .failure(HumanValueFailure(detail: unreadable)) }
        if data.count > limit { return .failure(HumanValueFailure(detail: tooLarge)) }
        return .success(data)
    }
}
