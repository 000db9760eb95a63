import AMQP
import ArgumentParser
import Foundation
import WarrenRuntime

/// `dlq purge`: drops matching dead letters; the rest stay.
struct DLQPurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Drop dead letters for good (the ones matching the filter; all with --all).",
        discussion: """
            Matching messages are acknowledged (gone); the others stay, in their places. With \
            --all and no filter, the whole queue is purged at once (queue.purge). Without a \
            filter, --all is required.
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var source: DLQQueueOption
    @OptionGroup var filters: DLQFilterOptions
    @OptionGroup var selection: DLQSelectionOptions

    func validate() throws { try selection.requireFilter(filters, verb: "purge") }

    func run() async throws {
        let config = try options.load()
        let filter = try filters.filter()
        let queue = source.queueName(in: config)
        let (dryRun, now) = (selection.dryRun, Date())
        let verb = dryRun ? "would purge" : "purged"
        if filter.isEmpty {  // --all
            let count = try await DLQConnection.run(config, verb: "purge", queue: queue) { io in
                let reader = DeadLetterQueueReader(io: io, queue: queue)
                if dryRun { return try await reader.depth() }
                return try await io.perform { connection throws(AMQPError) in
                    let channel = try connection.openChannel()
                    defer { try? channel.close() }
                    return Int(try channel.purgeQueue(queue))
                }
            }
            print("\(verb) \(count) message\(count == 1 ? "" : "s") from \(queue)")
            return
        }
        var matched = 0
        let report = try await DLQConnection.run(config, verb: "purge", queue: queue) { io in
            try await DeadLetterQueueReader(io: io, queue: queue).process { letter in
                guard filter.matches(letter, now: now) else { return .keep }
                matched += 1
                return dryRun ? .keep : .drop
            }
        }
        let examined = report.examined
        print("\(verb) \(matched) of \(examined) message\(examined == 1 ? "" : "s") in \(queue) matching \(filter)")
    }
}
