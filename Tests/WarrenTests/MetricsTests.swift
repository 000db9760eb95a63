import Foundation
import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// What the supervisor's /metrics says, and how `status` reads it back.
@Suite("Metrics")
struct MetricsTests {
    @Test("each child's recorder, used from its own reader thread, adds to the same series as its siblings'")
    func childRecorders() async {
        let metrics = WarrenMetrics()
        let children = (0..<8).map { _ in metrics.forChild(queue: "q") }
        await withTaskGroup(of: Void.self) { group in
            for child in children {
                group.addTask {
                    for n in 0..<500 {
                        child.taskStarted()
                        child.taskFinished(
                            TaskSummary(
                                id: "\(n)", name: n % 2 == 0 ? "a" : "b", outcome: n % 5 == 0 ? .retried : .succeeded, duration: 0.001,
                                lag: 0.002))
                    }
                }
            }
        }
        let samples = MetricSamples(parsing: String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(samples.sum("warren_tasks_started_total", ["queue": "q"]) == 4000)
        #expect(samples.sum("warren_tasks_total", ["queue": "q"]) == 4000)
        #expect(samples.sum("warren_tasks_total", ["task": "a", "outcome": "retried"]) == 8 * 50)
        #expect(samples.sum("warren_retries_total", ["queue": "q"]) == 8 * 100)
        #expect(samples.sum("warren_task_duration_seconds_count", ["task": "b"]) == 2000)
        #expect(samples.sum("warren_queue_lag_seconds_count", ["queue": "q"]) == 4000)
    }

    @Test("tasks, retries, dead letters and children are counted under Prometheus names and labels")
    func counts() {
        let metrics = WarrenMetrics()
        for _ in 0..<3 {
            metrics.taskFinished(queue: "q", TaskSummary(id: "1", name: "demo.add", outcome: .succeeded, duration: 0.002, lag: 0.004))
        }
        metrics.taskFinished(queue: "q", TaskSummary(id: "2", name: "demo.flaky", outcome: .retried, duration: 0.001, lag: nil))
        metrics.deadLettered(queue: "q", reason: "malformed")
        metrics.childRestarted(queue: "q", reason: "killed")
        metrics.children(queue: "q", alive: 2, ready: 1)
        metrics.queue("q", messages: 7, consumers: 1)

        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        let samples = MetricSamples(parsing: text)
        #expect(samples.sum("warren_tasks_total", ["queue": "q", "task": "demo.add", "outcome": "succeeded"]) == 3)
        #expect(samples.sum("warren_tasks_total", ["outcome": "retried"]) == 1)
        #expect(samples.sum("warren_retries_total", ["task": "demo.flaky"]) == 1)
        #expect(samples.sum("warren_dead_letters_total", ["queue": "q", "reason": "malformed"]) == 1)
        #expect(samples.sum("warren_child_restarts_total", ["reason": "killed"]) == 1)
        #expect(samples.sum("warren_children", ["queue": "q"]) == 2)
        #expect(samples.sum("warren_children_ready", ["queue": "q"]) == 1)
        #expect(samples.sum("warren_queue_messages", ["queue": "q"]) == 7)
        #expect(samples.sum("warren_task_duration_seconds_count", ["task": "demo.add"]) == 3)
        // Lag: three observations of 4 ms (the retried one had no publish time).
        #expect(samples.sum("warren_queue_lag_seconds_count", ["queue": "q"]) == 3)
        #expect(abs(samples.sum("warren_queue_lag_seconds_sum", ["queue": "q"]) - 0.012) < 1e-6)
        let p50 = samples.quantile(0.5, histogram: "warren_queue_lag_seconds", ["queue": "q"])
        #expect(p50.map { $0 > 0.002 && $0 <= 0.005 } == true)  // within the 2-5 ms bucket
        #expect(text.contains("# TYPE warren_tasks_total counter"))
        #expect(text.contains("# TYPE warren_queue_lag_seconds histogram"))
    }

    @Test("quantiles interpolate within buckets as histogram_quantile does")
    func quantiles() {
        let buckets: [(bound: Double, count: Double)] = [(0.01, 50), (0.1, 90), (1, 100), (.infinity, 100)]
        #expect(MetricSamples.quantile(0.5, cumulative: buckets) == 0.01)
        #expect(abs(MetricSamples.quantile(0.7, cumulative: buckets)! - 0.055) < 1e-9)
        #expect(MetricSamples.quantile(0.99, cumulative: buckets)! > 0.1)
        #expect(MetricSamples.quantile(0.5, cumulative: [(0.1, 0), (.infinity, 0)]) == nil)
        #expect(MetricSamples.quantile(0.99, cumulative: [(0.1, 1), (.infinity, 10)]) == 0.1)  // in +Inf: the top bound
    }

    @Test("the parser reads labels with escapes, skips comments and lines it cannot read")
    func parsing() {
        let samples = MetricSamples(
            parsing: """
                # HELP x something
                # TYPE x counter
                x 3
                y{a="1",b="with \\"quote\\" and \\\\ slash"} 2.5
                z{le="+Inf"} 4
                broken{a="1" 2
                nan NaN
                """)
        #expect(samples.sum("x") == 3)
        #expect(samples.matching("y").first?.labels == ["a": "1", "b": "with \"quote\" and \\ slash"])
        #expect(samples.sum("z", ["le": "+Inf"]) == 4)
        #expect(samples.matching("broken").isEmpty)
        #expect(samples.matching("nan").first?.value.isNaN == true)
    }
}
