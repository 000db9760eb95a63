import Logging

/// What a key expects and how to read it from the scalar's text.
///
/// Values are read from the text as written, not from YAML's own typing, so that `010` is ten
/// (not octal eight), `1:30` is not a number of seconds, and `"8"` quoted is 8 too.
struct ScalarKind<Value> {
    /// How a message names what was expected: `an integer`, `a duration like 30s or 10m`.
    var expected: String
    /// The same for a list of them: `strings`.
    var pluralExpected: String
    /// Reads the text; a failure may say why.
    var read: (String) -> Result<Value, HumanValueFailure>
}

extension ScalarKind where Value == String {
    /// Any text.
    static var string: ScalarKind {
        ScalarKind(expected: "a string", pluralExpected: "strings") { .success($0) }
    }
}

extension ScalarKind where Value == Int {
    /// A decimal integer, optionally signed (the range is checked later).
    static var integer: ScalarKind {
        ScalarKind(expected: "an integer", pluralExpected: "integers") { text in
            let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.allSatisfy({ $0.asciiDigit != nil }) else {
                return .failure(HumanValueFailure(detail: nil))
            }
            guard let value = Int(text) else { return .failure(HumanValueFailure(detail: "too large")) }
            return .success(value)
        }
    }
}

extension ScalarKind where Value == Double {
    /// A decimal number: `2`, `0.2`, `1.5e3`.
    static var number: ScalarKind {
        ScalarKind(expected: "a number", pluralExpected: "numbers") { text in
            guard !text.isEmpty, text.allSatisfy({ $0.asciiDigit != nil || "+-.eE".contains($0) }),
                let value = Double(text), value.isFinite
            else { return .failure(HumanValueFailure(detail: nil)) }
            return .success(value)
        }
    }
}

extension ScalarKind where Value == Bool {
    /// `true` or `false` (also YAML 1.1's `yes`, `no`, `on`, `off`), in any case.
    static var boolean: ScalarKind {
        ScalarKind(expected: "true or false", pluralExpected: "booleans") { text in
            switch text.lowercased() {
            case "true", "yes", "on": .success(true)
            case "false", "no", "off": .success(false)
            default: .failure(HumanValueFailure(detail: nil))
            }
        }
    }
}

extension ScalarKind where Value == Duration {
    /// A human-readable duration (see ``Swift/Duration/init(humanReadable:)``).
    static var duration: ScalarKind {
        ScalarKind(expected: "a duration like 30s or 10m", pluralExpected: "durations") {
            HumanDurationParser.parse($0)
        }
    }
}

extension ScalarKind where Value == ByteSize {
    /// A human-readable size (see ``ByteSize``).
    static var size: ScalarKind {
        ScalarKind(expected: "a size like 512MiB or 2GiB", pluralExpected: "sizes") {
            ByteSize.parse($0)
        }
    }
}

extension ScalarKind where Value == ListenAddress {
    /// `host:port`.
    static var listenAddress: ScalarKind {
        ScalarKind(expected: "host:port like 127.0.0.1:9464", pluralExpected: "addresses") {
            ListenAddress($0).map { .success($0) } ?? .failure(HumanValueFailure(detail: nil))
        }
    }
}

extension ScalarKind where Value == BrokerURL {
    /// An `amqp://` or `amqps://` URL; messages show it with its password masked.
    static var brokerURL: ScalarKind {
        ScalarKind(
            expected: "an AMQP URL like amqp://user:password@host:5672/vhost", pluralExpected: "AMQP URLs",
            read: { BrokerURL.parse($0) })
    }
}

extension ScalarKind where Value == TopicPattern {
    /// An AMQP topic pattern, checked by ``TopicPattern``.
    static var topicPattern: ScalarKind {
        ScalarKind(
            expected: "an AMQP topic pattern like notify.* or report.#", pluralExpected: "topic patterns"
        ) { text in
            switch TopicPattern.parse(text) {
            case .success(let pattern): .success(pattern)
            case .failure(let reason): .failure(HumanValueFailure(detail: reason.message))
            }
        }
    }
}

extension ScalarKind where Value == Logger.Level {
    /// A swift-log level name.
    static var logLevel: ScalarKind {
        ScalarKind.choice(of: Logger.Level.allCases, named: \.rawValue)
    }
}

extension ScalarKind {
    /// One of a fixed set of names; a near miss gets a "did you mean".
    static func choice(of values: [Value], named name: @escaping (Value) -> String) -> ScalarKind {
        let names = values.map(name)
        let list =
            names.count <= 2
            ? names.joined(separator: " or ")
            : names.dropLast().joined(separator: ", ") + " or " + names.last!
        return ScalarKind(expected: list, pluralExpected: list) { text in
            if let value = values.first(where: { name($0) == text.lowercased() }) { return .success(value) }
            let suggestion = closestSpelling(to: text, among: names).map {
                "did you mean \(ErrorText.quoted($0, limit: ConfigKeyPath.quotedLimit))?"
            }
            return .failure(HumanValueFailure(detail: suggestion))
        }
    }
}

extension ScalarKind where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// One of the cases of a string enum (``QueueType``, ``LogFormat``).
    static var cases: ScalarKind { choice(of: Array(Value.allCases), named: \.rawValue) }
}
