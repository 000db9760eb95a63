import AMQP
import Foundation
import Testing
import Warren

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Lost broker connections: children and the publisher reconnect by themselves, and nothing is lost.
/// The broker closes only this test's connections (`rabbitmqctl close_connection`): suites run in parallel.
@Suite("Reconnection", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct ReconnectionTests {
    /// `rabbitmqctl` is needed: without the node's name, fail when the broker is required, else skip.
    private func requireControl() throws -> Bool {
        if BrokerControl.node != nil { return true }
        try #require(!IntegrationBroker.required, "WARREN_TEST_RABBITMQ_NODE must be set when the broker is required")
        return false
    }

    @Test("children whose connections the broker closes reconnect in the same process, report it, and take tasks again")
    func childReconnects() async throws {
        guard try requireControl() else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        #expect(try await publisher.call(TaskMessage(name: "demo.add", args: [2, 3])) == 5)
        let before = Set(worker.childPIDs)

        let closed = try await BrokerControl.closeConnections(named: "\(setup.queue("latency"))#")
        #expect(closed == 2)
        try await worker.waitForLog("child lost its broker connection", "\(setup.queue("latency"))#1", timeout: .seconds(10))
        try await worker.waitForLog("child lost its broker connection", "\(setup.queue("latency"))#2", timeout: .seconds(10))
        #expect(try await publisher.call(TaskMessage(name: "demo.add", args: [4, 3]), timeout: .seconds(20)) == 7)

        // One child is enough to answer; the other may still be in its backoff (at most 5 s).
        let consuming = { worker.log.filter { $0.hasSuffix("[Warren] consuming") && $0.contains(setup.queue("latency")) }.count }
        let deadline = ContinuousClock.now + .seconds(20)
        while consuming() < 4, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(consuming() == 4)
        #expect(worker.lines(containing: "child died").isEmpty)
        #expect(Set(worker.childPIDs) == before)  // reconnected, not restarted
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    @Test("a task running when its child's connection died cannot ack: it completes, is redelivered, runs again; none lost")
    func runningTaskSurvives() async throws {
        guard try requireControl() else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        // Outlasts rabbitmqctl, which takes seconds to start when suites run in parallel.
        let task = TaskMessage(name: "demo.sleep", args: [10])
        async let result = publisher.call(task, timeout: .seconds(60))
        try await worker.waitForLog(task.id, "task started", timeout: .seconds(10))
        #expect(try await BrokerControl.closeConnections(named: "\(setup.queue("slow"))#") == 1)
        try #require(worker.lines(containing: task.id).filter { $0.contains("task succeeded") }.isEmpty, "closed too late")

        #expect(try await result.doubleValue == 10)  // the reply of the second run: the first one's channel died
        try await worker.waitForLog(task.id, "task succeeded", timeout: .seconds(10))
        #expect(worker.lines(containing: task.id).filter { $0.contains("task started") }.count == 2)
        #expect(worker.lines(containing: "child died").isEmpty)
        let broker = try await BrokerIO.open()
        #expect(try await broker.depth(setup.queue("slow")) == 0)
        await broker.close()
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    @Test("a warm shutdown while the children cannot reconnect exits 0 at once")
    func warmShutdownWhileDisconnected() async throws {
        guard try requireControl() else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        // A user of its own, whose access is then taken away: its children cannot get back in.
        let user = "\(setup.prefix)-user"
        _ = try await BrokerControl.run(["add_user", user, "secret"])
        _ = try await BrokerControl.run(["set_permissions", "-p", "/", user, ".*", ".*", ".*"])
        let url = IntegrationBroker.url.replacingOccurrences(of: "guest:guest@", with: "\(user):secret@")
        try #require(url != IntegrationBroker.url, "the test broker's URL should carry guest:guest")
        let worker = try await DemoWorker(config: setup.path, environment: ["WARREN_BROKER_URL": url])

        _ = try await BrokerControl.run(["clear_permissions", "-p", "/", user])
        try await BrokerControl.closeConnections(named: setup.prefix)
        try await worker.waitForLog("cannot connect to the broker; retrying", setup.queue("latency"), timeout: .seconds(10))
        let started = ContinuousClock.now
        #expect(await worker.stop() == 0)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(worker.lines(containing: "warm shutdown while disconnected").count >= 1)
        _ = try await BrokerControl.run(["delete_user", user])
    }

    @Test("the publisher: a publish not confirmed throws; after the broker closed its connection the next publish goes through a new one")
    func publisherReconnects() async throws {
        guard try requireControl() else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let configuration = try setup.configuration()
        let broker = try await BrokerIO.open()
        try await broker.declare(configuration, tasks: ["demo.noop"])  // no worker: the tasks stay in the queue
        let name = "\(setup.prefix) publisher"
        let publisher = try await WarrenClient(configuration: configuration, name: name)
        let firstConnection = try await BrokerControl.connections(named: name)
        #expect(firstConnection.count == 1)

        var confirmed = 0, failed = 0
        for i in 0..<200 {
            if i == 100 { #expect(try await BrokerControl.closeConnections(named: name) == 1) }
            do {
                try await publisher.publish(TaskMessage(name: "demo.noop"))
                confirmed += 1
            } catch is AMQPError {
                failed += 1  // not confirmed: reported, never assumed
            }
        }
        #expect(failed <= 2)  // at most the publishes in flight when the connection went
        #expect(confirmed >= 198)
        let secondConnection = try await BrokerControl.connections(named: name)
        #expect(secondConnection.count == 1 && secondConnection != firstConnection)
        // Every confirmed task is in the queue (an unconfirmed one may be too).
        let depth = Int(try await broker.depth(setup.queue("latency")))
        #expect(depth >= confirmed && depth <= confirmed + failed)
        await publisher.close()
        await broker.close()
    }
}
