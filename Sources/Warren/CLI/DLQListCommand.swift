import ArgumentParser
import Foundation
import WarrenCore
import WarrenRuntime

/// `dlq list`: shows dead letters as a table, or as JSON lines; the queue is left as it was.
struct DLQListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Show dead letters: age, task, reason, attempts, original queue, error, task id.",
        discussion: """
            Oldest in the queue first. The messages stay in the queue, in their order on classic \
            queues such as the dead-letter and unrouted queues (they are \
            marked redelivered). Reasons: \(DeadLetter.knownReasons.joined(separator: ", ")).
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var source: DLQQueueOption
    @OptionGroup var filters: DLQFilterOptions

    @Option(help: "Show at most this many (bounds the memory used).")
    var limit = 1000

    @Flag(help: "One JSON object per line: the fields, every header decoded, the body (text, or base64).")
    var json = false

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let config = try options.load()
        let filter = try filters.filter()
        let queue = source.queueName(in: config)
        let (limit, json, now) = (self.limit, self.json, Date())
        let (shown, report, full) = try await DLQConnection.run(config, verb: "list", queue: queue) { io in
            var shown: [DeadLetter] = []
            var full = false
            let report = try await DeadLetterQueueReader(io: io, queue: queue).process(limit: filter.isEmpty ? limit : nil) {
                letter in
                guard filter.matches(letter, now: now) else { return .keep }
                guard shown.count < limit else {
                    full = true
                    return nil
                }
                var letter = letter
                if !json { letter.delivery.body = [] }  // the table does not show it
                shown.append(letter)
                return .keep
            }
            return (shown, report, full || (filter.isEmpty && report.depth > limit))
        }
        if json {
            for letter in shown { print(JSONValue.object(letter.jsonObject(now: now)).jsonText) }
            return
        }
        guard report.depth > 0 else {
            print("\(queue) is empty")
            return
        }
        if !shown.isEmpty { DeadLetterTable.render(shown, now: now).forEach { print($0) } }
        print(footer(shown: shown.count, report: report, filter: filter, queue: queue, full: full))
    }

    private func footer(shown: Int, report: DeadLetterReadReport, filter: DeadLetterFilter, queue: String, full: Bool) -> String {
        let total = "\(report.depth) message\(report.depth == 1 ? "" : "s") in \(queue)"
        if full { return "\n\(shown) shown, --limit \(limit) reached; \(total)" + (filter.isEmpty ? "" : " (filter \(filter))") }
        if filter.isEmpty { return "\n\(total)" }
        return "\n\(shown) of \(total) match \(filter)"
    }
}
