import Foundation

/// Random config files for the loader: the example `Config/warren.yaml` mutated line by line,
/// and documents made of the config's own keys and YAML's odd corners.
enum ConfigFuzzer {
    /// `Config/warren.yaml` of this repository, the file mutations start from.
    static let example: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(4)  // Tests/WarrenTests/Fuzz/ConfigFuzzer.swift
        let path = components.joined(separator: "/") + "/Config/warren.yaml"
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? "queues:\n  default:\n    routes: [\"#\"]\n"
    }()

    /// Every key the loader knows, at any level, plus near misses.
    static let keys = [
        "broker", "url", "heartbeat", "connection_name", "tls", "ca", "cert", "key", "verify", "exchange", "queues", "routes",
        "children", "prefetch", "concurrency", "time_limit", "max_memory", "max_tasks_per_child", "type", "retry", "max_attempts",
        "backoff", "initial", "multiplier", "max", "jitter", "dead_letter", "queue", "unrouted", "metrics", "enabled", "listen",
        "log", "level", "format", "shutdown_timeout", "max_message_size", "prefech", "Queues", "latency", "default", "amq.x", "",
    ]

    /// Values that are wrong, or right only just, for some key.
    static let values = [
        "", "~", "null", "0", "-1", "1", "65536", "99999999999999999999999", "1.5", "1e999", "NaN", ".inf", "-.inf", "0x10", "010",
        "true", "yes", "off", "30s", "0s", "500ms", "1h30m", "30s1m", "1.5s", "0.0000000001s", "1 h", "-5m", "106751d", "106752d",
        "512MiB", "0B", "1.5B", "8EiB", "9EiB", "16KB", "1e3", "amqp://u:p@h:5672/%2F", "amqps://h", "http://x", "amqp://:99999",
        "amqp://u:secret@[::1", "127.0.0.1:9464", "[::1]:0", ":", "notify.*", "a..b", "#.#", "*", "quorum", "stream", "json",
        "TRACE", "[]", "{}", "[a, b", "{a: 1", "[1, [2, [3]]]", "{a: {b: {c: d}}}", "&anchor x", "*anchor", "*missing", "!!binary aGk=",
        "!!int x", "!custom x", "'single'", "\"double \\u0000 \\x1b\"", "\"unterminated", "|\n  block", ">-\n  folded", "? complex",
        "- item", "x: y: z", "a # comment", "\t", "é", "\u{FEFF}", "\u{2028}", "\u{85}", "\u{1}",
    ]

    /// Whole lines YAML treats specially.
    static let lines = [
        "---", "...", "%YAML 1.1", "%TAG ! tag:x,2000:", "<<: *base", "base: &base { children: 2 }", "? [a, b]\n: c",
        "- a", "  - b", "queues:", "queues: &q", "other: *q", "\tchildren: 1", "#", "key: |", "key: >", "[", "]", "{", "}",
        "a: [*a]", "x: &x [*x]", "lol: &a [x, x, x, x]\nlol2: &b [*a, *a, *a, *a]\nlol3: [*b, *b, *b, *b]",
    ]

    /// A config text: usually the example with mutations, sometimes a document of random pieces.
    static func document(using rng: inout some RandomNumberGenerator) -> String {
        if rng.chance(0.2) { return randomDocument(using: &rng) }
        var text = rng.chance(0.8) ? example : "queues:\n  default:\n    routes: [\"#\"]\n    children: 1\n"
        for _ in 0..<rng.int(1...4) { text = mutate(text, using: &rng) }
        return text
    }

    /// One random edit of `text`.
    static func mutate(_ text: String, using rng: inout some RandomNumberGenerator) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let i = rng.int(0...lines.count - 1)
        switch rng.int(0...11) {
        case 0: lines.remove(at: i)
        case 1: lines.insert(lines[i], at: rng.int(0...lines.count))
        case 2: lines.swapAt(i, rng.int(0...lines.count - 1))
        case 3: lines[i] = replacingValue(of: lines[i], with: rng.pick(values))
        case 4: lines[i] = replacingKey(of: lines[i], with: rng.chance(0.8) ? rng.pick(keys) : rng.text(maxLength: 6))
        case 5:
            let indentation = lines[i].prefix { $0 == " " }
            let content = lines[i].dropFirst(indentation.count)
            lines[i] = rng.pick(["", " ", "   ", "\t", String(indentation) + "  ", String(indentation.dropFirst())]) + content
        case 6: lines.insert(rng.pick(self.lines), at: rng.int(0...lines.count))
        case 7: lines[i] = insert(rng.text(maxLength: 3), into: lines[i], using: &rng)
        case 8:
            let joined = lines.joined(separator: "\n")
            return String(joined.unicodeScalars.prefix(rng.int(0...joined.unicodeScalars.count)))
        case 9:
            lines[i] = replacingValue(of: lines[i], with: rng.pick(["[", "{", "- ", ""]) + rng.pick(values) + rng.pick(["]", "}", ""]))
        case 10: lines[i] += rng.pick(["\r", " # c", ",", ":", " :", "\u{0}", "\u{7F}", "\u{FFFE}"])
        default: lines[i] = rng.text(maxLength: 30)
        }
        return lines.joined(separator: rng.chance(0.05) ? "\r\n" : "\n")
    }

    /// `key: value` with another value (the line itself when it has no value).
    static func replacingValue(of line: String, with value: String) -> String {
        guard let colon = line.range(of: ": ") ?? (line.hasSuffix(":") ? line.range(of: ":", options: .backwards) : nil) else {
            return line
        }
        return String(line[..<colon.lowerBound]) + ": " + value
    }

    /// `key: value` with another key.
    static func replacingKey(of line: String, with key: String) -> String {
        guard let colon = line.firstIndex(of: ":") else { return line }
        let indentation = line.prefix { $0 == " " }
        return String(indentation) + key + String(line[colon...])
    }

    static func insert(_ piece: String, into line: String, using rng: inout some RandomNumberGenerator) -> String {
        var scalars = Array(line.unicodeScalars)
        scalars.insert(contentsOf: piece.unicodeScalars, at: rng.int(0...scalars.count))
        return String(String.UnicodeScalarView(scalars))
    }

    /// Lines of keys, values and YAML syntax at random indentation.
    static func randomDocument(using rng: inout some RandomNumberGenerator) -> String {
        var text = ""
        for _ in 0..<rng.int(0...12) {
            let indentation = String(repeating: " ", count: rng.pick([0, 0, 2, 4, 6, 3]))
            switch rng.int(0...4) {
            case 0: text += indentation + rng.pick(keys) + ":"
            case 1: text += indentation + rng.pick(keys) + ": " + rng.pick(values)
            case 2: text += indentation + "- " + rng.pick(values)
            case 3: text += rng.pick(lines)
            default: text += indentation + rng.text(maxLength: 10)
            }
            text += "\n"
        }
        return text
    }
}
