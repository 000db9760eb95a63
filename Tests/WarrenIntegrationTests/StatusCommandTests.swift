import AMQP
import Foundation
import Logging
import Testing
import Warren

/// `status` as an operator or a script runs it.
@Suite("status verb", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct StatusCommandTests {
    @Test("status --json reports the depth of a queue holding known messages, without a supervisor")
    func depthWithoutSupervisor() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let configuration = try setup.configuration()
        _ = try await Topology.declare(
            configuration: configuration, taskNames: ["demo.sleep", "demo.add"], logger: Logger(label: "test"))
        let publisher = try await WarrenClient(configuration: configuration)
        for _ in 0..<3 { try await publisher.publish(TaskMessage(name: "demo.sleep", args: [1])) }
        try await publisher.publish(TaskMessage(name: "demo.add", args: [1, 2], countdown: .seconds(60)))
        await publisher.close()

        let run = try await DemoBinary.run(["status", "--json", "--interval", "0.1", "--config", setup.path])
        #expect(run.status == 0, "\(run.err)")
        let report = try JSONDecoder.snakeCase.decode(StatusReport.self, from: Data(run.out.utf8))
        #expect(report.brokerReachable)
        #expect(!report.supervisorReachable)  // metrics disabled in this setup
        let slow = try #require(report.queues.first { $0.name == setup.queue("slow") })
        #expect(slow.messages == 3)
        #expect(slow.consumers == 0)
        #expect(slow.children == nil)
        // A countdown waits in its work queue until a worker moves it to a wait queue.
        #expect(report.queues.first { $0.name == setup.queue("latency") }?.messages == 1)
        #expect(report.waiting == 0)
        #expect(report.deadLetters.messages == 0)
        #expect(report.deadLetters.queue == setup.deadLetterQueue)
    }

    @Test("status exits 1 when the broker cannot be reached (still printing what it knows)")
    func unreachableBrokerFails() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let port = try FreePort.take()  // nothing listens there
        let run = try await DemoBinary.run(
            ["status", "--json", "--interval", "0.1", "--config", setup.path],
            environment: ["WARREN_BROKER_URL": "amqp://guest:guest@127.0.0.1:\(port)/%2F"])
        #expect(run.status == 1, "\(run.err)")
        let report = try JSONDecoder.snakeCase.decode(StatusReport.self, from: Data(run.out.utf8))
        #expect(!report.brokerReachable)
    }

    @Test("status --json with a running supervisor: children ready and tasks done come from its metrics")
    func withSupervisor() async throws {
        let listen = ListenAddress(host: "127.0.0.1", port: try FreePort.take())
        let setup = try TestSetup(metrics: listen)
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        try await worker.waitForLog("ready: every child is consuming", timeout: .seconds(20))
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        #expect(try await publisher.call(TaskMessage(name: "demo.add", args: [2, 3])) == 5)
        await publisher.close()
        try await worker.waitForLog("task succeeded", timeout: .seconds(5))

        let run = try await DemoBinary.run(["status", "--json", "--interval", "0.2", "--config", setup.path])
        #expect(run.status == 0, "\(run.err)")
        let report = try JSONDecoder.snakeCase.decode(StatusReport.self, from: Data(run.out.utf8))
        #expect(report.supervisorReachable)
        let latency = try #require(report.queues.first { $0.name == setup.queue("latency") })
        #expect(latency.children == 2)
        #expect(latency.childrenReady == 2)
        #expect(latency.consumers == 2)
        #expect(latency.lagP50Seconds != nil)
        #expect(await worker.stop() == 0)
    }
}

extension JSONDecoder {
    /// Reads what `status --json` writes.
    static var snakeCase: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
