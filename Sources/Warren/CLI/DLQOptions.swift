import ArgumentParser
import WarrenCore
import WarrenRuntime

/// `--queue`: which queue a `dlq` verb reads.
struct DLQQueueOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The queue: the config's dead-letter queue by default, 'unrouted' for its unrouted queue, or any queue name.",
            valueName: "queue"))
    var queue: String?

    /// The queue name `--queue` means under `configuration`.
    func queueName(in configuration: WarrenConfiguration) -> String {
        switch queue {
        case nil, "dead": configuration.deadLetterQueue
        case "unrouted": configuration.unroutedQueue
        case let name?: name
        }
    }
}

/// `--task`, `--reason`, `--older-than`: which dead letters a `dlq` verb acts on.
struct DLQFilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only this task: a name, or a topic pattern such as 'report.*'.", valueName: "name"))
    var task: String?

    @Option(
        help: ArgumentHelp(
            "Only this reason: \(DeadLetter.knownReasons.joined(separator: ", ")).", valueName: "reason"))
    var reason: String?

    @Option(help: ArgumentHelp("Only dead letters that arrived at least this long ago, e.g. 30m or 2d.", valueName: "duration"))
    var olderThan: String?

    func validate() throws { _ = try filter() }

    /// The filter the options describe.
    /// - Throws: `ValidationError` for a bad pattern, an unknown reason or a bad duration.
    func filter() throws -> DeadLetterFilter {
        var filter = DeadLetterFilter()
        if let task {
            guard let pattern = TopicPattern(task) else {
                throw ValidationError("--task '\(task)': \(TopicPattern.validationMessage(for: task) ?? "not a task name or pattern")")
            }
            filter.task = pattern
        }
        if let reason {
            guard DeadLetter.knownReasons.contains(reason) else {
                throw ValidationError(
                    "--reason '\(reason)' is not a reason; use one of \(DeadLetter.knownReasons.joined(separator: ", "))")
            }
            filter.reason = reason
        }
        if let olderThan {
            guard let duration = Duration(humanReadable: olderThan) else {
                throw ValidationError("--older-than must be a duration like 30m, 1h or 2d; got '\(olderThan)'")
            }
            filter.olderThan = duration
        }
        return filter
    }
}

/// `--all` and `--dry-run`, for the verbs that change the queue.
struct DLQSelectionOptions: ParsableArguments {
    @Flag(help: "Act on every message when no filter is given (refused otherwise).")
    var all = false

    @Flag(help: "Only say what would be done; change nothing.")
    var dryRun = false

    /// Refuses an empty filter without `--all`, so that a forgotten option cannot empty a queue.
    func requireFilter(_ filters: DLQFilterOptions, verb: String) throws {
        if !all, try filters.filter().isEmpty {
            throw ValidationError(
                "refusing to \(verb) every message without a filter: give --task, --reason or --older-than, or --all to mean all")
        }
    }
}
