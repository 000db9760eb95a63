extension WarrenConfiguration {
    /// Every resolved value, defaults included, as YAML in the config file's own layout: what
    /// `check-config` prints. Passwords are masked; a value that is not set prints as `null`.
    ///
    /// The text is valid YAML: loading it gives this configuration back, except for masked
    /// passwords.
    public func describe() -> String {
        var lines: [String] = []
        if let source { lines.append("# resolved from \(source)") }
        lines.append("broker:")
        lines.append("  url: [\(broker.urls.map { yamlString($0.description, alwaysQuote: true) }.joined(separator: ", "))]")
        // The file's path, never what it holds.
        lines.append("  password_file: \(broker.passwordFile.map { yamlString($0) } ?? "null")")
        lines.append("  heartbeat: \(broker.heartbeat.humanReadable)")
        lines.append("  connection_name: \(broker.connectionName.map { yamlString($0) } ?? "null")")
        if let tls = broker.tls {
            lines.append("  tls:")
            lines.append("    ca: \(tls.caFile.map { yamlString($0) } ?? "null")")
            lines.append("    cert: \(tls.certificateFile.map { yamlString($0) } ?? "null")")
            lines.append("    key: \(tls.keyFile.map { yamlString($0) } ?? "null")")
            lines.append("    verify: \(tls.verify)")
        } else {
            lines.append("  tls: null")
        }
        lines.append("exchange: \(yamlString(exchange))")
        lines.append("queues:")
        for queue in queues {
            lines.append("  \(yamlString(queue.name)):")
            lines.append("    routes: [\(queue.routes.map { yamlString($0.description, alwaysQuote: true) }.joined(separator: ", "))]")
            lines.append("    type: \(queue.type.rawValue)")
            lines.append("    children: \(queue.children)")
            lines.append("    prefetch: \(queue.prefetch)")
            lines.append("    concurrency: \(queue.concurrency)")
            lines.append("    time_limit: \(queue.timeLimit?.humanReadable ?? "null")")
            lines.append("    max_memory: \(queue.maxMemory?.description ?? "null")")
            lines.append("    max_tasks_per_child: \(queue.maxTasksPerChild.map(String.init) ?? "null")")
            if let retry = queue.retry {
                lines += Self.describe(retry, indent: "    ")
            }
        }
        lines += Self.describe(retry, indent: "")
        lines.append("dead_letter:")
        lines.append("  queue: \(yamlString(deadLetterQueue))")
        lines.append("unrouted:")
        lines.append("  queue: \(yamlString(unroutedQueue))")
        lines.append("metrics:")
        lines.append("  enabled: \(metrics.enabled)")
        lines.append("  listen: \(yamlString(metrics.listen.description, alwaysQuote: metrics.listen.host.contains(":")))")
        lines.append("log:")
        lines.append("  level: \(log.level.rawValue)")
        lines.append("  format: \(log.format.rawValue)")
        lines.append("shutdown_timeout: \(shutdownTimeout.humanReadable)")
        lines.append("max_message_size: \(maxMessageSize)")
        lines += describeSchedules()
        lines.append("node_name: \(nodeName.map { yamlString($0, alwaysQuote: true) } ?? "null")  # null: warren@<hostname>")
        lines.append("control:")
        lines.append("  enabled: \(control.enabled)")
        lines.append("  allow: [\(control.allow.joined(separator: ", "))]")
        lines.append("events: \(events)")
        return lines.joined(separator: "\n") + "\n"
    }

    private func describeSchedules() -> [String] {
        guard !schedules.isEmpty else { return ["schedules: {}"] }
        var lines = ["schedules:"]
        for schedule in schedules {
            lines.append("  \(yamlString(schedule.name)):")
            lines.append("    task: \(yamlString(schedule.task))")
            switch schedule.timing {
            case .every(let interval):
                lines.append("    every: \(interval.period.humanReadable)")
            case .cron(let expression, let zone):
                lines.append("    cron: \(yamlString(expression.description, alwaysQuote: true))")
                lines.append("    timezone: \(yamlString(zone.identifier))")
            }
            lines.append("    args: \(yamlFlow(.array(schedule.args)))")
            lines.append("    kwargs: \(yamlFlow(.object(schedule.kwargs)))")
            lines.append("    expires: \(schedule.expires?.humanReadable ?? "null")")
            lines.append("    queue: \(schedule.queue.map { yamlString($0) } ?? "null")")
            lines.append("    routing_key: \(schedule.routingKey.map { yamlString($0) } ?? "null")")
        }
        return lines
    }

    private static func describe(_ policy: RetryPolicy, indent: String) -> [String] {
        let backoff = policy.backoff
        return [
            "\(indent)retry:",
            "\(indent)  max_attempts: \(policy.maxAttempts)",
            "\(indent)  backoff: { initial: \(backoff.initial.humanReadable), multiplier: \(formatNumber(backoff.multiplier)), "
                + "max: \(backoff.max.humanReadable), jitter: \(formatNumber(backoff.jitter)) }",
        ]
    }
}

/// `text` as a YAML scalar: plain when that reads back as the same string, else double-quoted.
func yamlString(_ text: String, alwaysQuote: Bool = false) -> String {
    let reserved = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"]
    let plain =
        !alwaysQuote && !text.isEmpty && text.first!.isLetter && !reserved.contains(text.lowercased())
        && text.allSatisfy { $0.isLetter || $0.isNumber || "_-./".contains($0) }
    return plain ? text : ErrorText.quoted(text, limit: .max)
}

/// A JSON value as YAML flow: JSON itself, with a space after each `:` (libyaml wants one).
/// Strings are JSON's double-quoted strings, which YAML reads alike.
func yamlFlow(_ value: JSONValue) -> String {
    switch value {
    case .array(let items): "[" + items.map(yamlFlow).joined(separator: ", ") + "]"
    case .object(let object):
        "{" + object.map { "\(JSONValue.string($0.key).jsonText): \(yamlFlow($0.value))" }.joined(separator: ", ") + "}"
    default: value.jsonText
    }
}
