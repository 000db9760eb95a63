import Foundation
import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// How `status` turns two looks at the metrics and the broker's counts into its report.
@Suite("Status report")
struct StatusReportTests {
    let configuration = WarrenConfiguration(queues: [QueueConfig(name: "fast", routes: [TopicPattern("#")!])])

    @Test("rates and recent lag come from the difference between two scrapes")
    func ratesFromTwoLooks() {
        let before = WarrenMetrics(), after = WarrenMetrics()
        for metrics in [before, after] {
            for _ in 0..<10 {
                metrics.taskFinished(queue: "fast", TaskSummary(id: "x", name: "t", outcome: .succeeded, duration: 0, lag: 2))
            }
        }
        // In the interval: 24 tasks started, 20 ended (each with 3 ms of lag), 2 of them requeued.
        for _ in 0..<24 { after.taskStarted(queue: "fast") }
        for _ in 0..<18 { after.taskFinished(queue: "fast", TaskSummary(id: "y", name: "t", outcome: .succeeded, duration: 0, lag: 0.003)) }
        for _ in 0..<2 { after.taskFinished(queue: "fast", TaskSummary(id: "z", name: "t", outcome: .requeued, duration: 0, lag: 0.003)) }
        after.children(queue: "fast", alive: 2, ready: 1)
        let report = StatusReport.make(
            configuration: configuration, time: Date(), counts: ["fast": QueueCounts(messages: 4, consumers: 1)], waiting: 2,
            samples: Self.samples(after), previous: Self.samples(before), interval: 2)
        let fast = report.queues[0]
        #expect(fast.deliveredPerSecond == 12)
        #expect(fast.ackedPerSecond == 9)  // the requeued ones went back unacknowledged
        #expect(fast.tasksTotal == 30)
        #expect(fast.lagP99Seconds.map { $0 > 0.002 && $0 <= 0.005 } == true)  // not the old 2 s lags
        #expect(fast.messages == 4 && fast.consumers == 1 && fast.children == 2 && fast.childrenReady == 1)
        let table = report.table.joined(separator: "\n")
        #expect(table.contains("1/2"))
        #expect(table.contains("waiting for a retry or countdown: 2"))
    }

    @Test("a paused queue shows as paused, with a line on how to resume it")
    func pausedQueue() {
        let metrics = WarrenMetrics()
        metrics.children(queue: "fast", alive: 0, ready: 0, paused: true)
        var report = StatusReport.make(
            configuration: configuration, time: Date(), counts: nil, waiting: nil, samples: Self.samples(metrics), previous: nil,
            interval: nil)
        #expect(report.queues[0].paused == true)
        #expect(report.table.contains { $0.hasPrefix("fast") && $0.contains("paused") })
        #expect(report.table.contains { $0.contains("queue resume") })
        metrics.children(queue: "fast", alive: 1, ready: 1, paused: false)
        report = StatusReport.make(
            configuration: configuration, time: Date(), counts: nil, waiting: nil, samples: Self.samples(metrics), previous: nil,
            interval: nil)
        #expect(report.queues[0].paused == false)
        #expect(!report.table.joined().contains("paused"))
    }

    @Test("without broker or supervisor, figures are absent and the table says so, not zero")
    func nothingReachable() {
        let report = StatusReport.make(
            configuration: configuration, time: Date(), counts: nil, waiting: nil, samples: nil, previous: nil, interval: nil)
        #expect(!report.brokerReachable && !report.supervisorReachable)
        #expect(report.queues[0].messages == nil && report.queues[0].children == nil)
        let table = report.table.joined(separator: "\n")
        #expect(table.contains("NOT REACHABLE"))
        #expect(table.contains("no supervisor figures"))
    }

    private static func samples(_ metrics: WarrenMetrics) -> MetricSamples {
        MetricSamples(parsing: String(decoding: metrics.exposition(), as: UTF8.self))
    }
}
