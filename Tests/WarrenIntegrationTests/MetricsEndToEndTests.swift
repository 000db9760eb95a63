import AMQP
import Foundation
import Testing
import Warren

/// The supervisor's /metrics after real tasks ran in real children.
@Suite("Metrics end to end", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct MetricsEndToEndTests {
    @Test("/metrics counts what ran by outcome; lag is non-zero for a task that waited; depths come from the broker")
    func scrapeCountsWhatRan() async throws {
        let listen = ListenAddress(host: "127.0.0.1", port: try FreePort.take())
        let setup = try TestSetup(metrics: listen)
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        try await worker.waitForLog("metrics served", timeout: .seconds(10))
        let publisher = try await WarrenClient(configuration: try setup.configuration())

        for i in Int64(0)..<3 { #expect(try await publisher.call(TaskMessage(name: "demo.add", args: [.int(i), 1])) == .int(i + 1)) }
        #expect(try await publisher.call(TaskMessage(name: "demo.flaky", args: [1])) == 2)  // fails once, retried
        try await publisher.publish(TaskMessage(name: "demo.fail", kwargs: ["message": "boom"]))
        // One child, prefetch 1 on `slow`: the second sleep waits about a second for the first.
        async let first = publisher.call(TaskMessage(name: "demo.sleep", args: [1]))
        async let second = publisher.call(TaskMessage(name: "demo.sleep", args: [1]))
        _ = try await (first, second)

        let latency = setup.queue("latency"), slow = setup.queue("slow")
        // A reply can overtake the child's report of it: read until the counts are in.
        let samples = try await scrape(listen) { samples in
            samples.sum("warren_tasks_total", ["queue": slow]) == 2 && samples.sum("warren_dead_letters_total") == 1
                && samples.sum("warren_tasks_total", ["task": "demo.flaky", "outcome": "succeeded"]) == 1
                && samples.sum("warren_queue_consumers", ["queue": latency]) == 2 && samples.sum("warren_children_ready") == 5
        }
        #expect(samples.sum("warren_tasks_total", ["queue": latency, "task": "demo.add", "outcome": "succeeded"]) == 3)
        #expect(samples.sum("warren_tasks_total", ["task": "demo.flaky", "outcome": "retried"]) == 1)
        #expect(samples.sum("warren_retries_total", ["task": "demo.flaky"]) == 1)
        #expect(samples.sum("warren_tasks_total", ["task": "demo.fail", "outcome": "failed"]) == 1)
        // Handlers started: 3 adds and 2 flaky attempts on `latency` or `default`, 2 sleeps on `slow`, 1 fail.
        #expect(samples.sum("warren_tasks_started_total", ["queue": slow]) == 2)
        #expect(samples.sum("warren_tasks_started_total") == 8)
        #expect(samples.sum("warren_dead_letters_total", ["reason": "failed"]) == 1)
        #expect(samples.sum("warren_task_duration_seconds_sum", ["task": "demo.sleep"]) >= 2)
        // The second sleep waited for the first: its lag alone is close to a second.
        #expect(samples.sum("warren_queue_lag_seconds_count", ["queue": slow]) == 2)
        #expect(samples.sum("warren_queue_lag_seconds_sum", ["queue": slow]) > 0.8)
        #expect(samples.sum("warren_children", ["queue": latency]) == 2)
        #expect(samples.matching("warren_queue_messages", ["queue": latency]).first?.value == 0)
        #expect(samples.sum("warren_broker_up") == 1)
        #expect(samples.sum("warren_child_restarts_total") == 0)
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    /// Scrapes until `ready` holds (the probe reads depths every few seconds), at most 15 s.
    private func scrape(_ listen: ListenAddress, until ready: (MetricSamples) -> Bool) async throws -> MetricSamples {
        let deadline = ContinuousClock.now + .seconds(15)
        var samples = try await MetricSamples.scrape(listen)
        while !ready(samples), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            samples = try await MetricSamples.scrape(listen)
        }
        return samples
    }
}
