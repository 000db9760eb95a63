import AMQP
import ArgumentParser
import Foundation
import WarrenCore
import WarrenRuntime

/// `status`: per queue, depth and consumers from the broker; children, rates and lag from the
/// running supervisor's metrics.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each queue: depth, consumers, children, task rate, lag, retries, dead letters.",
        discussion: """
            Broker figures need only the broker; children, rates and lag are read from the supervisor's \
            metrics (metrics.listen) when it runs. Rates and recent lag are measured over --interval.
            """)

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Refresh every --interval until interrupted.")
    var watch = false

    @Option(help: ArgumentHelp("Seconds between the two looks that give rates (and between refreshes).", valueName: "seconds"))
    var interval: Double = 1

    @Flag(help: "One JSON object per look (JSON lines with --watch), for scripts.")
    var json = false

    /// Delays of retries and countdowns counted as waiting: up to a day.
    static let waitingHorizon = 24 * 3600 * 1000

    func validate() throws {
        guard interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1 seconds") }
    }

    func run() async throws {
        let config = try options.load()
        let reader = StatusReader(configuration: config)
        var previous = await reader.samples()
        var previousTime = ContinuousClock.now
        let interactive = isatty(STDOUT_FILENO) == 1
        var brokerReachable = true
        repeat {
            try await Task.sleep(for: .seconds(interval))
            let samples = await reader.samples()
            let now = ContinuousClock.now
            var report = StatusReport.make(
                configuration: config, time: Date(), counts: await reader.counts(), waiting: await reader.waiting(),
                samples: samples, previous: previous, interval: (now - previousTime).seconds)
            (previous, previousTime) = (samples, now)
            brokerReachable = report.brokerReachable
            let leader = await reader.scheduleLeader()
            (report.scheduleLeader, report.scheduleLeaderWroteAt) = (leader?.writer, leader?.writtenAt)
            if json {
                let encoder = JSONEncoder()
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.dateEncodingStrategy = .iso8601
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                if watch && interactive { print("\u{1B}[H\u{1B}[2J", terminator: "") }  // clear the screen
                report.table.forEach { print($0) }
                if let line = leader?.line { print(line) }
                if watch && !interactive { print("") }
            }
            fflush(nil)  // every stream: a pipe to `watch`/`less` sees each look at once
        } while watch
        await reader.close()
        // Scripts and health checks read the status: a broker that cannot be reached is a failure.
        if !brokerReachable { throw ExitCode.failure }
    }
}

/// Reads the broker's counts and the supervisor's metrics for `status`, keeping one broker
/// connection across looks (made again after a failure).
actor StatusReader {
    private let configuration: WarrenConfiguration
    private var io: AMQPConnectionThread?

    init(configuration: WarrenConfiguration) { self.configuration = configuration }

    /// The supervisor's metrics, or nil when none answers.
    func samples() async -> MetricSamples? {
        guard configuration.metrics.enabled else { return nil }
        return try? await MetricSamples.scrape(configuration.metrics.listen, timeout: .seconds(2))
    }

    /// Messages and consumers of the work, dead-letter and unrouted queues; nil when the broker
    /// does not answer.
    func counts() async -> [String: QueueCounts]? {
        let names = configuration.queues.map(\.name) + [configuration.deadLetterQueue, configuration.unroutedQueue]
        guard let io = await connection() else { return nil }
        return try? await QueueCounts.read(names, on: io)
    }

    /// Messages in every wait queue (retries and countdowns waiting in the broker).
    func waiting() async -> Int? {
        guard let io = await connection() else { return nil }
        let delays = DelayedDelivery(exchange: configuration.exchange)
        let names = DelayedDelivery.steps(upTo: StatusCommand.waitingHorizon).map { delays.waitQueue(milliseconds: $0) }
        return (try? await QueueCounts.read(names, on: io))?.values.reduce(0) { $0 + $1.messages }
    }

    /// Which supervisor leads the schedules, as the broker's record says, and the line the
    /// table shows; `nil` without schedules.
    func scheduleLeader() async -> (writer: String?, writtenAt: Date?, line: String)? {
        guard !configuration.schedules.isEmpty else { return nil }
        guard let io = await connection(),
            let (snapshot, _) = try? await ScheduleRecord.read(exchange: configuration.exchange, on: io)
        else { return (nil, nil, "schedule leader: unknown (cannot read the broker)") }
        guard let snapshot else { return (nil, nil, "schedule leader: unknown (no leader has written the record yet)") }
        return (
            snapshot.writer, snapshot.writtenAt,
            "schedule leader: \(snapshot.writer) (last wrote \(CeleryTime.format(snapshot.writtenAt)))"
        )
    }

    func close() async {
        await io?.close()
        io = nil
    }

    private func connection() async -> AMQPConnectionThread? {
        if let io, io.failure == nil { return io }
        await io?.close()
        io = try? await configuration.broker.connect(
            name: "\(ProcessInfo.processInfo.processName) status pid \(getpid())", threadName: "amqp-status")
        return io
    }
}
