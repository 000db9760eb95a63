import Yams

/// Walks the YAML nodes of a config file, reads typed values and collects every problem,
/// each located by key path and by line and column (Yams' `Mark`).
///
/// A value that cannot be read is reported and left out, so its default applies and the walk
/// goes on: the loader reports every problem of a file at once.
struct ConfigReader {
    /// The file name to print in problems.
    let source: String
    /// Every problem found so far, in the order found.
    private(set) var problems: [ConfigurationError.Problem] = []
    /// Where each key that was present sits: its value's mark for a scalar or a list, its key's
    /// mark for a mapping or `null`.
    var marks: [ConfigKeyPath: Mark] = [:]
    /// The keys whose values could not be read.
    private(set) var failedPaths: Set<ConfigKeyPath> = []

    init(source: String) {
        self.source = source
    }

    /// Records a problem about `path` at `mark`.
    mutating func report(_ message: String, at path: ConfigKeyPath, mark: Mark?) {
        problems.append(
            ConfigurationError.Problem(
                source: source, line: mark?.line, column: mark?.column, keyPath: path.description, message: message))
        failedPaths.insert(path)
    }

    /// The mark of `path`, or of the nearest key above it that was present.
    func mark(for path: ConfigKeyPath) -> Mark? {
        var current: ConfigKeyPath? = path
        while let path = current {
            if let mark = marks[path] { return mark }
            current = path.parent
        }
        return nil
    }

    /// Whether `path` or a key below it could not be read.
    func failedBelow(_ path: ConfigKeyPath) -> Bool {
        failedPaths.contains { $0.components.starts(with: path.components) }
    }

    /// Whether the key at exactly `path` is written in the file.
    func isWritten(_ path: ConfigKeyPath) -> Bool {
        marks[path] != nil
    }

    /// Whether a validation issue only follows from a problem already reported, or is about a
    /// value inherited from elsewhere: then it is not reported.
    func shouldSkip(_ issue: ValidationIssue) -> Bool {
        if issue.involving.contains(where: failed) { return true }
        if issue.summarizesItems && failedBelow(issue.path) { return true }
        if issue.onlyWhereWritten && !issue.involving.contains(where: isWritten) { return true }
        return false
    }

    /// Whether `path` or a key above it could not be read.
    func failed(_ path: ConfigKeyPath) -> Bool {
        var current: ConfigKeyPath? = path
        while let path = current {
            if failedPaths.contains(path) { return true }
            current = path.parent
        }
        return false
    }

    // MARK: - Mappings

    /// Opens the mapping at `path`: checks that `node` is one, and reports its unknown keys
    /// (with the closest known one) and duplicate keys.
    ///
    /// - Parameters:
    ///   - node: The node, or `nil` when the key is absent.
    ///   - keys: The keys allowed, or `nil` to allow any (the `queues` mapping).
    /// - Returns: The mapping's known entries; an empty mapping for `null`; `nil` when the key
    ///   is absent or is not a mapping (then reported).
    mutating func mapping(_ node: Node?, at path: ConfigKeyPath, keys: [String]?) -> ConfigMapping? {
        guard let node else { return nil }
        if Self.isNull(node) { return ConfigMapping(path: path, mark: node.mark, entries: []) }
        guard case .mapping(let mapping) = node else {
            let expected = keys.map { "a mapping with keys \($0.joined(separator: ", "))" } ?? "a mapping"
            report("expected \(expected), got \(Self.describe(node))", at: path, mark: node.mark)
            return nil
        }
        var result = ConfigMapping(path: path, mark: node.mark, entries: [])
        var seen: [String: Mark?] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode, !Self.isNull(keyNode) else {
                report("expected a key name, got \(Self.describe(keyNode))", at: path, mark: keyNode.mark)
                continue
            }
            let key = scalar.string
            let keyPath = path + key
            if let first = seen[key] {
                let where_ = first.map { " (first on line \($0.line))" } ?? ""
                report("appears twice in this mapping\(where_); keep one", at: keyPath, mark: keyNode.mark)
                continue
            }
            seen[key] = keyNode.mark
            if let keys, !keys.contains(key) {
                let hint =
                    closestSpelling(to: key, among: keys).map { "did you mean \(ErrorText.quoted($0, limit: ConfigKeyPath.quotedLimit))?" }
                    ?? "expected one of \(keys.joined(separator: ", "))"
                report("unknown key, \(hint)", at: keyPath, mark: keyNode.mark)
                continue
            }
            // A problem about a scalar or a list points at the value; one about a whole mapping
            // (a queue's name, a block whose keys do not go together) points at its key.
            switch value {
            case .scalar where !Self.isNull(value), .sequence: marks[keyPath] = value.mark ?? keyNode.mark
            default: marks[keyPath] = keyNode.mark
            }
            result.entries.append((key, keyNode.mark, value))
        }
        return result
    }

    // MARK: - Scalars and lists

    /// Reads the scalar at `key` of `mapping`.
    ///
    /// - Returns: The value; `nil` when the key is absent or `null`, or when the value cannot be
    ///   read (then reported).
    mutating func scalar<Value>(_ key: String, in mapping: ConfigMapping, _ kind: ScalarKind<Value>) -> Value? {
        guard let node = mapping.value(for: key) else { return nil }
        return scalar(node, at: mapping.path + key, kind)
    }

    /// Reads `node` as a scalar of `kind`; `nil` for `null` or a value that cannot be read.
    mutating func scalar<Value>(_ node: Node, at path: ConfigKeyPath, _ kind: ScalarKind<Value>) -> Value? {
        if Self.isNull(node) { return nil }
        guard case .scalar(let scalar) = node else {
            report("expected \(kind.expected), got \(Self.describe(node))", at: path, mark: node.mark)
            return nil
        }
        switch kind.read(scalar.string) {
        case .success(let value):
            return value
        case .failure(let failure):
            let detail = failure.detail.map { " (\($0))" } ?? ""
            report("expected \(kind.expected), got \(shown(scalar.string))\(detail)", at: path, mark: node.mark)
            return nil
        }
    }

    /// Reads the list at `key` of `mapping`, each item a scalar of `kind`. A single scalar
    /// counts as a list of one.
    ///
    /// - Returns: The items that could be read; `nil` when the key is absent or `null`, or is
    ///   not a list (then reported).
    mutating func list<Value>(_ key: String, in mapping: ConfigMapping, _ kind: ScalarKind<Value>) -> [Value]? {
        guard let node = mapping.value(for: key) else { return nil }
        let path = mapping.path + key
        if Self.isNull(node) { return nil }
        switch node {
        case .scalar:
            return scalar(node, at: path, kind).map { [$0] }
        case .sequence(let sequence):
            var values: [Value] = []
            for (index, item) in sequence.enumerated() {
                let itemPath = path + index
                if let mark = item.mark { marks[itemPath] = mark }
                if Self.isNull(item) {
                    report("expected \(kind.expected), got nothing", at: itemPath, mark: item.mark ?? node.mark)
                } else if let value = scalar(item, at: itemPath, kind) {
                    values.append(value)
                }
            }
            return values
        default:
            report("expected a list of \(kind.pluralExpected), got \(Self.describe(node))", at: path, mark: node.mark)
            return nil
        }
    }

    // MARK: - Helpers

    /// Whether `node` is YAML's null: `~`, `null` or nothing, unquoted.
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// How a message shows a value that was found: `a mapping`, `a list`, `"text"`.
    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar): return isNull(node) ? "nothing" : shown(scalar.string)
        }
    }
}

/// A mapping of the config file whose keys were checked: only known keys are in it.
struct ConfigMapping {
    /// Where the mapping sits.
    var path: ConfigKeyPath
    /// The mapping's own mark.
    var mark: Mark?
    /// The known entries, in the order of the file.
    var entries: [(key: String, keyMark: Mark?, value: Node)]

    /// The value of `key`, or `nil` when absent.
    func value(for key: String) -> Node? {
        entries.first { $0.key == key }?.value
    }
}
