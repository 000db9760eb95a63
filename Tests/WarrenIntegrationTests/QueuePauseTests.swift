import AMQP
import Foundation
import Testing
import Warren

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `queue pause` / `queue resume` (Celery's cancel_consumer / add_consumer) against a running supervisor.
@Suite("Queue pause and resume", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct QueuePauseTests {
    /// Waits (polling the broker: nothing else tells when a consumer is gone) until `queue` has `count` consumers.
    static func waitForConsumers(_ count: UInt32, on queue: String, within limit: Duration = .seconds(30)) async throws {
        let seen = try await ConsumerCount.waitUntil(queue, is: count, within: limit)
        #expect(seen.count == count, "\(queue) has \(seen.count) consumers, not \(count)")
    }

    @Test("pause: the queue's children stop and its tasks wait; status says paused; a reload keeps it paused; resume runs the waiting task")
    func pauseReloadResume() async throws {
        let listen = ListenAddress(host: "127.0.0.1", port: try FreePort.take())
        let setup = try TestSetup(metrics: listen)
        defer { setup.tearDown() }
        let latency = setup.queue("latency")
        let worker = try await DemoWorker(config: setup.path)
        try await worker.waitForLog("ready: every child is consuming", timeout: .seconds(30))
        try await worker.waitForLog("celery node: answering remote control", timeout: .seconds(20))
        let broker = try await BrokerIO.open()
        let publisher = try await WarrenClient(configuration: try setup.configuration())

        let pause = try await DemoBinary.run(["queue", "pause", latency, "--config", setup.path])
        #expect(pause.status == 0, "\(pause.err)")
        #expect(pause.out == "\(setup.nodeName): no longer consuming from \(latency)\n")
        try await Self.waitForConsumers(0, on: latency)
        async let waiting = publisher.call(TaskMessage(name: "demo.add", args: [2, 3]), timeout: .seconds(120))
        // Other queues go on.
        #expect(try await publisher.call(TaskMessage(name: "demo.sleep", args: [0])).doubleValue == 0)
        // The paused queue holds its task (polled: the call above ran beside its publish).
        let deadline = ContinuousClock.now + .seconds(20)
        while try await broker.depth(latency) == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }

        let status = try await DemoBinary.run(["status", "--json", "--interval", "0.1", "--config", setup.path])
        let report = try JSONDecoder.snakeCase.decode(StatusReport.self, from: Data(status.out.utf8))
        let paused = try #require(report.queues.first { $0.name == latency })
        #expect(paused.paused == true && paused.children == 0 && paused.messages == 1)
        #expect(report.queues.first { $0.name == setup.queue("slow") }?.paused == false)

        worker.signal(SIGHUP)
        try await worker.waitForLog("queues stay paused", timeout: .seconds(60))
        #expect(try await broker.consumerCount(latency) == 0)
        #expect(try await broker.depth(latency) == 1)

        let again = try await DemoBinary.run(["queue", "resume", setup.queue("slow"), "--config", setup.path])
        #expect(again.out == "\(setup.nodeName): already consuming from '\(setup.queue("slow"))'\n")
        let resume = try await DemoBinary.run(["queue", "resume", latency, "--config", setup.path])
        #expect(resume.status == 0, "\(resume.err)")
        #expect(resume.out == "\(setup.nodeName): add consumer \(latency)\n")
        #expect(try await waiting == 5)
        try await Self.waitForConsumers(2, on: latency)
        await publisher.close()
        await broker.close()
        #expect(await worker.stop() == 0)
        #expect(!worker.log.contains { $0.contains("child died") })
    }

    @Test("pause of a queue not in the config, or with no supervisor answering: a clear error and exit status 1")
    func refused() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let unknown = try await DemoBinary.run(["queue", "pause", "nosuch", "--config", setup.path])
        #expect(unknown.status != 0)
        #expect(unknown.err.contains("no queue named nosuch"))
        let nobody = try await DemoBinary.run(["queue", "pause", setup.queue("slow"), "--timeout", "0.5", "--config", setup.path])
        #expect(nobody.status == 1)
        #expect(nobody.err.contains("no reply from node \(setup.nodeName)"))
    }
}
