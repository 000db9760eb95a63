import AMQP
import ArgumentParser
import Foundation
import WarrenCore
import WarrenRuntime

/// `dlq replay`: sends matching dead letters back through their routes; the rest stay.
struct DLQReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send dead letters back through their routes: to the exchange, routing key = task name.",
        discussion: """
            Each matching message is published again, body and properties unchanged, with its \
            headers cleaned (x-warren-*, x-death and warren-wait removed, retries reset to 0, a \
            past eta removed), with publisher confirms; it leaves this queue only once the broker \
            confirmed the copy. A task that no binding knows (per the binding record the workers \
            keep in <exchange>.bindings) is skipped and reported, since it would only come back \
            to the unrouted queue. A task whose 'expires' has passed is replayed but will be \
            dead-lettered again as expired. Without a filter, --all is required.
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var source: DLQQueueOption
    @OptionGroup var filters: DLQFilterOptions
    @OptionGroup var selection: DLQSelectionOptions

    func validate() throws { try selection.requireFilter(filters, verb: "replay") }

    func run() async throws {
        let config = try options.load()
        let filter = try filters.filter()
        let queue = source.queueName(in: config)
        let (dryRun, now) = (selection.dryRun, Date())
        let outcome = try await DLQConnection.run(config, verb: "replay", queue: queue) { io in
            guard let bindings = try await Self.readBindings(config, io: io) else {
                throw DLQConnection.fail(
                    "replay", "no binding record in '\(config.exchange).bindings': run the worker once, so that it binds its tasks")
            }
            let replay = DeadLetterReplay(exchange: config.exchange, bindings: bindings)
            var outcome = Outcome(replay: replay)
            outcome.report = try await DeadLetterQueueReader(io: io, queue: queue).process { letter in
                guard filter.matches(letter, now: now) else { return .keep }
                outcome.matched += 1
                switch replay.plan(for: letter, now: now) {
                case .skip(let why):
                    outcome.skipped[why, default: 0] += 1
                    return .keep
                case .republish(let route, let properties, _):
                    outcome.planned[route, default: 0] += 1
                    return dryRun ? .keep : .republish(route, properties)
                }
            }
            return outcome
        }
        outcome.print(queue: queue, filter: filter, dryRun: dryRun)
        if !outcome.report.failures.isEmpty { throw ExitCode.failure }
    }

    /// The bindings recorded by the last topology declaration on the exchange.
    private static func readBindings(_ config: WarrenConfiguration, io: AMQPConnectionThread) async throws(AMQPError)
        -> Set<QueueBinding>?
    {
        let topology = Topology(configuration: config, taskNames: [String]())
        return try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel(3)
            defer { try? channel.close() }
            return try topology.readBindingRecord(on: channel)
        }
    }

    /// What the pass did, and its printout.
    private struct Outcome {
        let replay: DeadLetterReplay
        var report = DeadLetterReadReport()
        var matched = 0
        var planned: [DeadLetterRoute: Int] = [:]
        var skipped: [String: Int] = [:]

        func print(queue: String, filter: DeadLetterFilter, dryRun: Bool) {
            let sent = dryRun ? planned : report.republished
            let count = sent.values.reduce(0, +)
            let scope = filter.isEmpty ? "" : " matching \(filter)"
            Swift.print(
                "\(dryRun ? "would replay" : "replayed") \(count) of \(report.examined) message\(report.examined == 1 ? "" : "s") in \(queue)\(scope)"
                    + (count > 0 ? ":" : ""))
            for (route, n) in sent.sorted(by: { $0.key < $1.key }) {
                let destination = replay.boundTasks[route.routingKey].map { " (queue \(DeadLetterTable.name($0)))" } ?? ""
                let (task, exchange) = (DeadLetterTable.name(route.routingKey), DeadLetterTable.name(route.exchange))
                Swift.print("  \(task) -> \(exchange)\(destination): \(n)")
            }
            if !skipped.isEmpty {
                Swift.print("skipped \(skipped.values.reduce(0, +)), left in the queue:")
                for (why, n) in skipped.sorted(by: { $0.key < $1.key }) { Swift.print("  \(ErrorText.loggable(why)): \(n)") }
            }
            if !report.failures.isEmpty {
                Swift.print("not confirmed by the broker, left in the queue: \(report.failures.count)")
                for failure in report.failures { Swift.print("  \(ErrorText.loggable("\(failure)"))") }
            }
            let others = report.examined - matched
            if others > 0 { Swift.print("\(others) not matching the filter left in place") }
        }
    }
}
