import AMQP
import Foundation
import Testing
@testable import Warren  // DelayedDelivery's wait-queue names, to delete the queues a test used

/// Retry delays against the real supervisor and broker (docs/delays.md): "Delays are real
/// broker-side delays ..., exact to ~10% of the delay, and a short delay is never stuck
/// behind a long one."
///
/// An attempt's start is when its `task started` line was read from the worker's log pipe
/// (``LogLines/arrival(of:)``): the children write their log lines straight to it, and the logs'
/// own timestamps count whole seconds only.
@Suite("Retry timing", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct RetryTimingTests {
    @Test("demo.flaky failing 3 times, backoff 1s x2 without jitter: succeeds on attempt 4; the attempts start 1 s, 2 s, 4 s apart (±10%)")
    func backoffGaps() async throws {
        let retry = "retry: { max_attempts: 5, backoff: { initial: 1s, multiplier: 2, max: 10s, jitter: 0 } }"
        let setup = try TestSetup(other: ["prefetch: 4", retry])
        defer { setup.tearDown() }
        defer { setup.deleteWaitQueues(upTo: .seconds(5)) }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let task = TaskMessage(name: "demo.flaky", kwargs: ["fail_times": 3])

        #expect(try await publisher.call(task, timeout: .seconds(30)) == 4)
        try await worker.waitForLog(task.id, "task succeeded", timeout: .seconds(10))  // the reply can overtake the log
        var starts: [ContinuousClock.Instant] = []
        for attempt in 1...4 {
            starts.append(try #require(worker.logs.arrival(of: [task.id, "task.attempt=\(attempt)", "task started"])))
        }
        let gaps = zip(starts, starts.dropFirst()).map { $1 - $0 }
        for (gap, expected) in zip(gaps, [1.0, 2.0, 4.0]) {
            #expect(abs(gap.seconds - expected) <= 0.1 * expected, "gap \(gap), expected \(expected) s ±10%")
        }
        print("demo.flaky attempts started \(gaps.map(\.description).joined(separator: ", ")) apart")
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    /// The delay goes through the handler's `TaskError.retry(after:)` (demo.flaky's `retry_in`),
    /// which the worker turns into a broker-side wait exactly as the retry policy's backoff.
    @Test("a 1 s retry requested after a 60 s one runs after 1 s (+10% +100 ms), long before the 60 s one")
    func shortRetryNotStuckBehindLong() async throws {
        let setup = try TestSetup(other: ["prefetch: 4"])
        defer { setup.tearDown() }
        defer { setup.deleteWaitQueues(upTo: .seconds(61)) }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())

        let long = TaskMessage(name: "demo.flaky", kwargs: ["fail_times": 1, "retry_in": 60])
        try await publisher.publish(long)
        try await worker.waitForLog(long.id, "task failed, will retry", timeout: .seconds(10))

        let short = TaskMessage(name: "demo.flaky", kwargs: ["fail_times": 1, "retry_in": 1])
        #expect(try await publisher.call(short, timeout: .seconds(10)) == 2)
        try await worker.waitForLog(short.id, "task succeeded", timeout: .seconds(10))  // the reply can overtake the log
        let first = try #require(worker.logs.arrival(of: [short.id, "task.attempt=1", "task started"]))
        let second = try #require(worker.logs.arrival(of: [short.id, "task.attempt=2", "task started"]))
        let delay = second - first
        #expect(delay >= .milliseconds(900) && delay <= .milliseconds(1_200), "the 1 s retry ran after \(delay)")
        #expect(worker.lines(containing: long.id).filter { $0.contains("task started") }.count == 1)  // still waiting
        print("1 s retry behind a 60 s one ran after \(delay)")
        await publisher.close()
        #expect(await worker.stop() == 0)  // the 60 s one is left to the clean-up
    }
}

extension TestSetup {
    /// Deletes the broker-side wait queues this setup's worker may have declared for delays up
    /// to `longest` (with the messages still waiting in them).
    func deleteWaitQueues(upTo longest: Duration) {
        guard let connection = try? IntegrationBroker.connect(), let channel = try? connection.openChannel() else { return }
        defer { connection.close() }
        let delays = DelayedDelivery(exchange: exchange)
        // Ladder steps are at least 10 ms apart: probing every 10 ms finds each one.
        let probes = stride(from: DelayedDelivery.smallestStep, through: Int(longest.seconds * 1000), by: 10)
        let steps = Set(probes.compactMap { DelayedDelivery.step(atMost: $0) })
        for step in steps { _ = try? channel.deleteQueue(delays.waitQueue(milliseconds: step)) }
    }
}
