import Yams

/// The keys of the config file, level by level, and how each is read.
extension ConfigReader {
    static let topLevelKeys = [
        "broker", "exchange", "queues", "retry", "dead_letter", "unrouted", "metrics", "log",
        "shutdown_timeout", "max_message_size", "schedules", "node_name", "control", "events",
    ]
    static let brokerKeys = ["url", "password_file", "heartbeat", "connection_name", "tls"]
    static let tlsKeys = ["ca", "cert", "key", "verify"]
    static let queueKeys = [
        "routes", "children", "prefetch", "concurrency", "time_limit", "max_memory", "max_tasks_per_child", "type",
        "retry",
    ]
    static let retryKeys = ["max_attempts", "backoff"]
    static let backoffKeys = ["initial", "multiplier", "max", "jitter"]

    /// Reads the whole file from its root node; every value that is absent or cannot be read
    /// gets its default.
    mutating func readConfiguration(_ root: Node) -> WarrenConfiguration {
        marks[.root] = root.mark
        var configuration = WarrenConfiguration(source: source, queues: [])
        guard case .mapping = root else {
            report(
                "expected a mapping of keys (broker, queues, …) at the top of the file, got \(Self.describe(root))",
                at: .root, mark: root.mark)
            return configuration
        }
        guard let top = mapping(root, at: .root, keys: Self.topLevelKeys) else { return configuration }

        configuration.broker = readBroker(top)
        configuration.exchange = scalar("exchange", in: top, .string) ?? configuration.exchange
        configuration.retry = readRetry(top.value(for: "retry"), at: "retry", inheriting: RetryPolicy()) ?? RetryPolicy()
        configuration.queues = readQueues(top, retry: configuration.retry)
        if let deadLetter = mapping(top.value(for: "dead_letter"), at: "dead_letter", keys: ["queue"]) {
            configuration.deadLetterQueue = scalar("queue", in: deadLetter, .string) ?? configuration.deadLetterQueue
        }
        if let unrouted = mapping(top.value(for: "unrouted"), at: "unrouted", keys: ["queue"]) {
            configuration.unroutedQueue = scalar("queue", in: unrouted, .string) ?? configuration.unroutedQueue
        }
        if let metrics = mapping(top.value(for: "metrics"), at: "metrics", keys: ["enabled", "listen"]) {
            configuration.metrics.enabled = scalar("enabled", in: metrics, .boolean) ?? configuration.metrics.enabled
            configuration.metrics.listen = scalar("listen", in: metrics, .listenAddress) ?? configuration.metrics.listen
        }
        if let log = mapping(top.value(for: "log"), at: "log", keys: ["level", "format"]) {
            configuration.log.level = scalar("level", in: log, .logLevel) ?? configuration.log.level
            configuration.log.format = scalar("format", in: log, .cases) ?? configuration.log.format
        }
        configuration.shutdownTimeout = scalar("shutdown_timeout", in: top, .duration) ?? configuration.shutdownTimeout
        configuration.maxMessageSize = scalar("max_message_size", in: top, .size) ?? configuration.maxMessageSize
        configuration.schedules = readSchedules(top)
        configuration.nodeName = scalar("node_name", in: top, .string)
        if let control = mapping(top.value(for: "control"), at: "control", keys: ["enabled", "allow"]) {
            configuration.control.enabled = scalar("enabled", in: control, .boolean) ?? configuration.control.enabled
            configuration.control.allow = list("allow", in: control, .controlMethod) ?? configuration.control.allow
        }
        configuration.events = scalar("events", in: top, .boolean) ?? configuration.events
        return configuration
    }

    private mutating func readBroker(_ top: ConfigMapping) -> BrokerConfig {
        var broker = BrokerConfig()
        guard let block = mapping(top.value(for: "broker"), at: "broker", keys: Self.brokerKeys) else { return broker }
        if let urls = readURLs(block) { broker.urls = urls }
        broker.heartbeat = scalar("heartbeat", in: block, .duration) ?? broker.heartbeat
        broker.connectionName = scalar("connection_name", in: block, .string)
        // Read, and checked, by ConfigLoader once the environment is applied.
        broker.passwordFile = scalar("password_file", in: block, .string)
        // `tls: null` (what describe() prints) means no TLS block, not one with defaults.
        let tlsNode = block.value(for: "tls").flatMap { Self.isNull($0) ? nil : $0 }
        if let tls = mapping(tlsNode, at: "broker.tls", keys: Self.tlsKeys) {
            broker.tls = BrokerConfig.TLS(
                caFile: scalar("ca", in: tls, .string),
                certificateFile: scalar("cert", in: tls, .string),
                keyFile: scalar("key", in: tls, .string),
                verify: scalar("verify", in: tls, .boolean) ?? true)
        }
        return broker
    }

    /// `broker.url`: one URL, several separated by commas, or a list.
    private mutating func readURLs(_ block: ConfigMapping) -> [BrokerURL]? {
        guard let node = block.value(for: "url"), !Self.isNull(node) else { return nil }
        let path: ConfigKeyPath = "broker.url"
        if case .scalar(let scalar) = node, scalar.string.contains(",") {
            var urls: [BrokerURL] = []
            for (index, part) in Self.splitList(scalar.string).enumerated() {
                // The parts have no marks of their own: point at the value.
                let partNode = Node.scalar(Node.Scalar(part, .implicit, .plain, node.mark))
                if let url = self.scalar(partNode, at: path + index, .brokerURL) {
                    urls.append(url)
                }
            }
            return urls
        }
        return list("url", in: block, .brokerURL)
    }

    private mutating func readQueues(_ top: ConfigMapping, retry: RetryPolicy) -> [QueueConfig] {
        guard let node = top.value(for: "queues") else {
            report(
                "required: list the queues, in routing order, for example  queues: { default: { routes: [\"#\"] } }",
                at: "queues", mark: top.mark)
            return []
        }
        guard let queues = mapping(node, at: "queues", keys: nil) else { return [] }
        var result: [QueueConfig] = []
        for (name, _, value) in queues.entries {
            let path = ConfigKeyPath("queues") + name
            guard let block = mapping(value, at: path, keys: Self.queueKeys) else { continue }
            let concurrency = scalar("concurrency", in: block, .integer) ?? 1
            result.append(
                QueueConfig(
                    name: name,
                    routes: list("routes", in: block, .topicPattern) ?? [],
                    children: scalar("children", in: block, .integer) ?? 1,
                    prefetch: scalar("prefetch", in: block, .integer),
                    concurrency: concurrency,
                    timeLimit: scalar("time_limit", in: block, .duration),
                    maxMemory: scalar("max_memory", in: block, .size),
                    maxTasksPerChild: scalar("max_tasks_per_child", in: block, .integer),
                    type: scalar("type", in: block, .cases) ?? .classic,
                    retry: readRetry(block.value(for: "retry"), at: path + "retry", inheriting: retry)))
        }
        return result
    }

    /// A `retry` block; the keys it leaves out come from `base`.
    private mutating func readRetry(_ node: Node?, at path: ConfigKeyPath, inheriting base: RetryPolicy) -> RetryPolicy? {
        guard let block = mapping(node, at: path, keys: Self.retryKeys) else { return nil }
        var policy = base
        policy.maxAttempts = scalar("max_attempts", in: block, .integer) ?? base.maxAttempts
        if let backoff = mapping(block.value(for: "backoff"), at: path + "backoff", keys: Self.backoffKeys) {
            policy.backoff.initial = scalar("initial", in: backoff, .duration) ?? base.backoff.initial
            policy.backoff.multiplier = scalar("multiplier", in: backoff, .number) ?? base.backoff.multiplier
            policy.backoff.max = scalar("max", in: backoff, .duration) ?? base.backoff.max
            policy.backoff.jitter = scalar("jitter", in: backoff, .number) ?? base.backoff.jitter
        }
        return policy
    }

    /// `a, b,c` as `["a", "b", "c"]`, without empty parts.
    static func splitList(_ text: String) -> [String] {
        text.split(separator: ",").map(trimmed).filter { !$0.isEmpty }
    }

    /// `text` without whitespace at either end.
    static func trimmed(_ text: Substring) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
            let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(text[first...last])
    }
}

extension ScalarKind where Value == String {
    /// A remote-control method Warren knows (``ControlConfig/knownMethods``).
    static var controlMethod: ScalarKind {
        ScalarKind(expected: "a remote-control method", pluralExpected: "remote-control methods") { text in
            if ControlConfig.knownMethods.contains(text) { return .success(text) }
            let hint =
                closestSpelling(to: text, among: ControlConfig.knownMethods).map {
                    "did you mean \(ErrorText.quoted($0, limit: ConfigKeyPath.quotedLimit))?"
                } ?? "known: \(ControlConfig.knownMethods.joined(separator: ", "))"
            return .failure(HumanValueFailure(detail: hint))
        }
    }
}
