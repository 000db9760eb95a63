import AMQP
import Foundation
import Testing
import Warren

/// Headers a publisher sets to turn a worker against the operator (issue 12, items 7 and 8).
@Suite("Hostile headers", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct HostileHeaderTests {
    @Test("reply_to naming Warren's own queues (binding record, dead letters, a work queue) gets no reply; the task still runs")
    func replyToWarrenQueues() async throws {
        let setup = try TestSetup(latency: ["children: 1", "prefetch: 1"])
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let broker = try await BrokerIO.open()
        let record = "\(setup.exchange).bindings"
        #expect(try await broker.depth(record) == 1)
        let targets = [record, setup.deadLetterQueue, setup.queue("default"), setup.queue("latency")]
        var ids: [String] = []
        for target in targets {
            let task = TaskMessage(name: "demo.add", args: [1, 2], replyTo: target)
            ids.append(task.id)
            try await publisher.publish(task)
        }
        // One child, prefetch 1: once this is answered, the four before it have run.
        #expect(try await publisher.call(TaskMessage(name: "demo.add", args: [2, 2])) == 4)
        for id in ids { try await worker.waitForLog(id, "task succeeded", timeout: .seconds(5)) }
        try await worker.waitForLog("reply_to names one of Warren's own queues", timeout: .seconds(5))
        #expect(worker.lines(containing: "reply_to names one of Warren's own queues").count == 4)
        #expect(try await broker.depth(record) == 1)  // the record itself, not a reply that pushed it out
        #expect(try await broker.depth(setup.deadLetterQueue) == 0)
        #expect(try await broker.depth(setup.queue("default")) == 0)
        #expect(worker.lines(containing: "malformed").isEmpty)  // no reply came back as a task
        await broker.close()
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    @Test("a timelimit header of [1e12, 1e12] cannot outrun the queue's 1 s time_limit")
    func headerCannotRaiseLimit() async throws {
        let setup = try TestSetup(slow: ["prefetch: 1", "time_limit: 1s"])
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let forever = TaskTimeLimit(hard: .seconds(1_000_000_000_000), soft: .seconds(1_000_000_000_000))
        let task = TaskMessage(name: "demo.sleep", args: [3], timeLimit: forever)
        let error = await #expect(throws: TaskFailed.self) { try await publisher.call(task, timeout: .seconds(60)) }
        #expect(error?.type == "SoftTimeLimitExceeded")
        #expect(worker.lines(containing: task.id).filter { $0.contains("task succeeded") }.isEmpty)
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    @Test("a timelimit header of [0.001, 0.001] is raised to the 1 s floor: the task runs, no child is killed")
    func headerFloor() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let tiny = TaskTimeLimit(hard: .milliseconds(1), soft: .milliseconds(1))
        #expect(try await publisher.call(TaskMessage(name: "demo.sleep", args: [0.3], timeLimit: tiny)) == 0.3)
        #expect(worker.lines(containing: "child died").isEmpty)
        #expect(worker.lines(containing: "hard time limit").isEmpty)
        await publisher.close()
        #expect(await worker.stop() == 0)
    }
}
