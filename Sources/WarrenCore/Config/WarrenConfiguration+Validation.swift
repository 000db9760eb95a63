extension WarrenConfiguration {
    /// Checks the ranges and relations of every value, the way ``ConfigLoader`` does after
    /// reading a file: useful for a configuration built or changed in code.
    ///
    /// - Throws: ``ConfigurationError`` with code ``ConfigurationError/Code/invalid`` listing
    ///   every problem, located by key path only (there is no file to point into).
    public func validate() throws(ConfigurationError) {
        let issues = validationIssues()
        guard issues.isEmpty else {
            throw ConfigurationError(
                .invalid,
                problems: issues.map {
                    ConfigurationError.Problem(source: source ?? "configuration", keyPath: $0.path.description, message: $0.message)
                })
        }
    }

    /// Every range or relation that does not hold, with the key it is about.
    func validationIssues() -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        func check(
            _ condition: Bool, _ path: ConfigKeyPath, _ message: @autoclosure () -> String, involving: [ConfigKeyPath] = [],
            summarizesItems: Bool = false
        ) {
            if !condition {
                issues.append(
                    ValidationIssue(path: path, message: message(), involving: [path] + involving, summarizesItems: summarizesItems))
            }
        }

        check(!broker.urls.isEmpty, "broker.url", "needs at least one URL", summarizesItems: true)
        if let nodeName {
            check(
                !nodeName.isEmpty && nodeName.utf8.count <= Self.maxNodeNameBytes, "node_name",
                "must be 1 to \(Self.maxNodeNameBytes) bytes (its pidbox queue is <node>.celery.pidbox), got \(nodeName.utf8.count)")
            check(
                !nodeName.unicodeScalars.contains { $0.properties.isWhitespace || $0.properties.generalCategory == .control },
                "node_name", "must not contain spaces or control characters, like warren@web-3")
        }
        let heartbeat = broker.heartbeat.components
        check(
            heartbeat.attoseconds == 0 && (0...65_535).contains(heartbeat.seconds), "broker.heartbeat",
            "must be whole seconds from 1s to 65535s, or 0 to turn heartbeats off, got \(broker.heartbeat.humanReadable)")
        if let tls = broker.tls {
            check(
                (tls.certificateFile == nil) == (tls.keyFile == nil), "broker.tls",
                "cert and key go together: \(tls.certificateFile == nil ? "cert" : "key") is missing")
            // A TLS block beside plaintext URLs would be ignored: the operator believes in TLS that is not there.
            check(
                broker.urls.isEmpty || broker.urls.contains(where: \.usesTLS), "broker.tls",
                "is set, but broker.url is amqp://, which does not use TLS: write amqps:// (or remove the tls block)")
        }
        // A failover from amqps:// to amqp:// would carry the password and every task in clear.
        check(
            broker.urls.allSatisfy(\.usesTLS) || !broker.urls.contains(where: \.usesTLS), "broker.url",
            "mixes amqps:// and amqp:// URLs, so a failover could drop to plaintext: use amqps:// for every node")
        if let name = broker.connectionName {
            check(!name.isEmpty, "broker.connection_name", "must not be empty; leave the key out for the default")
        }

        if let problem = Self.problemWithName(exchange, of: "an exchange") {
            check(false, "exchange", problem)
        }

        check(
            !queues.isEmpty, "queues", "needs at least one queue, for example  default: { routes: [\"#\"] }",
            summarizesItems: true)
        for queue in queues {
            let path = ConfigKeyPath("queues") + queue.name
            if let problem = Self.problemWithName(queue.name, of: "a queue") {
                check(false, path, problem)
            }
            check(queue.name != deadLetterQueue, path, "is the dead-letter queue (dead_letter.queue); give it another name")
            check(queue.name != unroutedQueue, path, "is the unrouted queue (unrouted.queue); give it another name")
            if let clash = clashWithWarrenQueues(queue.name) { check(false, path, clash) }
            check((1...1024).contains(queue.children), path + "children", "must be from 1 to 1024, got \(queue.children)")
            check(queue.concurrency >= 1, path + "concurrency", "must be at least 1, got \(queue.concurrency)")
            check((1...65_535).contains(queue.prefetch), path + "prefetch", "must be from 1 to 65535, got \(queue.prefetch)")
            if queue.prefetch >= 1 && queue.concurrency >= 1 {
                check(
                    queue.prefetch >= queue.concurrency, path + "prefetch",
                    "must be at least concurrency (\(queue.concurrency)), or handler slots stay idle; got \(queue.prefetch)",
                    involving: [path + "concurrency"])
            }
            if let timeLimit = queue.timeLimit {
                check(timeLimit > .zero, path + "time_limit", "must be longer than 0s; leave the key out for no limit")
            }
            if let maxMemory = queue.maxMemory {
                check(maxMemory.bytes > 0, path + "max_memory", "must be more than 0B; leave the key out for no limit")
            }
            if let maxTasks = queue.maxTasksPerChild {
                check(maxTasks >= 1, path + "max_tasks_per_child", "must be at least 1, got \(maxTasks); leave the key out for no limit")
            }
            if let retry = queue.retry {
                // A queue's policy repeats the top-level values it inherits; those are checked there.
                issues += Self.validationIssues(of: retry, at: path + "retry").map {
                    var issue = $0
                    issue.onlyWhereWritten = true
                    return issue
                }
            }
        }

        issues += Self.validationIssues(of: retry, at: "retry")

        if let problem = Self.problemWithName(deadLetterQueue, of: "a queue") {
            check(false, "dead_letter.queue", problem)
        }
        if let problem = Self.problemWithName(unroutedQueue, of: "a queue") {
            check(false, "unrouted.queue", problem)
        }
        check(
            deadLetterQueue != unroutedQueue, "unrouted.queue", "must differ from dead_letter.queue (\(deadLetterQueue))",
            involving: ["dead_letter.queue"])
        if let clash = clashWithWarrenQueues(deadLetterQueue) { check(false, "dead_letter.queue", clash) }
        if let clash = clashWithWarrenQueues(unroutedQueue) { check(false, "unrouted.queue", clash) }
        // The unrouted queue's name is also its (fanout) exchange's; the delay exchanges follow the task exchange's.
        for (name, role) in [
            (exchange, "the task exchange (exchange)"), ("\(exchange).wait", "the delay exchange"),
            ("\(exchange).delayed", "the delay exchange"),
        ]
        where name == unroutedQueue {
            let (path, other): (ConfigKeyPath, ConfigKeyPath) =
                name == exchange ? ("exchange", "unrouted.queue") : ("unrouted.queue", "exchange")
            check(
                false, path,
                "\"\(name)\" is \(role) and also the unrouted queue's name, which its exchange takes too: give one of them another name",
                involving: [other])
        }

        for schedule in schedules {
            issues += validationIssues(of: schedule)
        }

        check(shutdownTimeout > .zero, "shutdown_timeout", "must be longer than 0s")
        check(
            maxMessageSize.bytes > 0 && maxMessageSize <= .mebibytes(512), "max_message_size",
            "must be from 1B to 512MiB (RabbitMQ's own limit), got \(maxMessageSize)")
        return issues
    }

    /// Whether `name` is one of Warren's queues for this configuration: a work queue, the
    /// dead-letter or unrouted queue, the binding record or a wait queue of delays. Replies are
    /// never sent to these, whatever a message's `reply_to` says: a publisher could otherwise
    /// make a worker overwrite the binding record, forge a dead letter or inject a task.
    public func isWarrenQueue(_ name: String) -> Bool {
        name == deadLetterQueue || name == unroutedQueue || clashWithWarrenQueues(name) != nil || queues.contains { $0.name == name }
    }

    /// Why `name` cannot be a queue's: Warren's own queues for this exchange take it (the binding
    /// record, the wait queues of delays), or `nil`.
    private func clashWithWarrenQueues(_ name: String) -> String? {
        if name == "\(exchange).bindings" {
            return "is the queue where Warren records the bindings of exchange \"\(exchange)\"; give it another name"
        }
        if name == "\(exchange).scheduler" || name == "\(exchange).scheduler.state" {
            return "is a queue of the periodic scheduler of exchange \"\(exchange)\"; give it another name"
        }
        if name.hasPrefix("\(exchange).wait.") {
            return "starts like the wait queues of delayed tasks (\(exchange).wait.); give it another name"
        }
        return nil
    }

    private func validationIssues(of schedule: ScheduleConfig) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        func check(_ condition: Bool, _ path: ConfigKeyPath, _ message: String, involving: [ConfigKeyPath] = []) {
            if !condition { issues.append(ValidationIssue(path: path, message: message, involving: [path] + involving)) }
        }
        let path = ConfigKeyPath("schedules") + schedule.name
        check(!schedule.name.isEmpty, path, "a schedule name must not be empty")
        check(schedule.name.utf8.count <= 200, path, "a schedule name is limited to 200 bytes, this one has \(schedule.name.utf8.count)")
        check(
            !schedule.name.unicodeScalars.contains { $0.properties.generalCategory == .control }, path,
            "a schedule name must not contain control characters")
        check(!schedule.task.isEmpty, path + "task", "must not be empty")
        check(schedule.task.utf8.count <= 255, path + "task", "a task name is limited to 255 bytes (it is a routing key)")
        if let expires = schedule.expires {
            check(expires > .zero, path + "expires", "must be longer than 0s; leave the key out for one period")
        }
        check(
            schedule.queue == nil || schedule.routingKey == nil, path + "routing_key",
            "queue and routing_key exclude each other: a fire goes straight to the queue, or through the exchange with the routing key",
            involving: [path + "queue"])
        if let queue = schedule.queue, let problem = Self.problemWithName(queue, of: "a queue") {
            check(false, path + "queue", problem)
        }
        if let routingKey = schedule.routingKey {
            check(
                !routingKey.isEmpty && routingKey.utf8.count <= 255, path + "routing_key",
                "must be 1 to 255 bytes; leave the key out to route by the task name")
        }
        return issues
    }

    private static func validationIssues(of policy: RetryPolicy, at path: ConfigKeyPath) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        func check(_ condition: Bool, _ path: ConfigKeyPath, _ message: String, involving: [ConfigKeyPath] = []) {
            if !condition { issues.append(ValidationIssue(path: path, message: message, involving: [path] + involving)) }
        }
        let backoff = path + "backoff"
        check(policy.maxAttempts >= 1, path + "max_attempts", "must be at least 1 (1 = no retry), got \(policy.maxAttempts)")
        check(policy.backoff.initial > .zero, backoff + "initial", "must be longer than 0s")
        check(
            policy.backoff.multiplier >= 1 && policy.backoff.multiplier.isFinite, backoff + "multiplier",
            "must be at least 1 (1 = the same delay every time), got \(formatNumber(policy.backoff.multiplier))")
        check(
            policy.backoff.max >= policy.backoff.initial, backoff + "max",
            "must be at least initial (\(policy.backoff.initial.humanReadable)), got \(policy.backoff.max.humanReadable)",
            involving: [backoff + "initial"])
        check(
            (0...1).contains(policy.backoff.jitter), backoff + "jitter",
            "must be from 0 to 1 (a fraction of the delay), got \(formatNumber(policy.backoff.jitter))")
        return issues
    }

    /// What is wrong with `name` as an AMQP exchange or queue name, or `nil`.
    static func problemWithName(_ name: String, of kind: String) -> String? {
        if name.isEmpty { return "\(kind) name must not be empty" }
        if name.utf8.count > 255 { return "\(kind) name is limited to 255 bytes, this one has \(name.utf8.count)" }
        if name.hasPrefix("amq.") { return "names starting with \"amq.\" are reserved by the broker" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "\(kind) name must not contain control characters"
        }
        if name.first?.isWhitespace == true || name.last?.isWhitespace == true {
            return "\(kind) name must not start or end with a space"
        }
        return nil
    }
}

/// A value out of range, or two values that do not go together.
struct ValidationIssue: Equatable {
    /// The key the message is about.
    var path: ConfigKeyPath
    /// What is wrong.
    var message: String
    /// Every key the check read: when one of them (or a key above it) could not be read, the
    /// issue is a consequence of that problem and is not reported.
    var involving: [ConfigKeyPath]
    /// The check is about the items below ``path`` (a list that must not be empty): when one of
    /// them could not be read, the issue is a consequence and is not reported.
    var summarizesItems = false
    /// The check reads values that may be inherited (a queue's retry policy): report it only
    /// when one of the keys involved is written at this place in the file.
    var onlyWhereWritten = false
}

/// `2` for 2.0, `0.2` for 0.2: numbers as a config file would write them.
func formatNumber(_ value: Double) -> String {
    if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
        return String(Int64(value))
    }
    return String(value)
}
