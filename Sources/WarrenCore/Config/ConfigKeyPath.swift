/// Where a value sits in the config file, from the top: `queues.slow.time_limit`.
struct ConfigKeyPath: Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// How many characters of a value a config problem shows before it cuts it with `…`: 80,
    /// enough for a path or a URL.
    static let quotedLimit = 80

    /// One step down: a mapping key or a list index.
    enum Component: Hashable {
        case key(String)
        case index(Int)
    }

    var components: [Component]

    /// The top of the file.
    static let root = ConfigKeyPath(components: [])

    init(components: [Component]) {
        self.components = components
    }

    /// A path of plain keys, written with dots: `"retry.backoff.max"`.
    init(_ value: String) {
        self.init(stringLiteral: value)
    }

    /// A path of plain keys, written with dots: `"retry.backoff.max"`.
    init(stringLiteral value: String) {
        components = value.split(separator: ".").map { .key(String($0)) }
    }

    /// This path, one key further down.
    static func + (path: ConfigKeyPath, key: String) -> ConfigKeyPath {
        ConfigKeyPath(components: path.components + [.key(key)])
    }

    /// This path, one list item further down.
    static func + (path: ConfigKeyPath, index: Int) -> ConfigKeyPath {
        ConfigKeyPath(components: path.components + [.index(index)])
    }

    /// The path one step up, or `nil` at the top.
    var parent: ConfigKeyPath? {
        components.isEmpty ? nil : ConfigKeyPath(components: components.dropLast())
    }

    /// `queues.slow.time_limit`, `queues.latency.routes[0]`; a key that is not a plain word
    /// is bracketed and quoted: `queues["warren.high"].children`.
    var description: String {
        var text = ""
        for component in components {
            switch component {
            case .index(let index):
                text += "[\(index)]"
            case .key(let key) where Self.isPlain(key):
                text += text.isEmpty ? key : ".\(key)"
            case .key(let key):
                text += "[\(ErrorText.quoted(key, limit: ConfigKeyPath.quotedLimit))]"
            }
        }
        return text
    }

    private static func isPlain(_ key: String) -> Bool {
        !key.isEmpty && key.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }
}

/// How a problem shows a value found in the file or the environment: quoted, with the
/// password of any URL in it masked, so that a misplaced broker URL never leaks its secret.
func shown(_ text: String) -> String {
    ErrorText.quoted(BrokerURL.maskingPassword(in: text), limit: ConfigKeyPath.quotedLimit)
}
