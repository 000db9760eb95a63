import AMQP
import Foundation
import Testing
import Warren

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The supervisor's promises once it has aged: up at least ``AgedWorker/minimumAge`` and idle at
/// least ``AgedWorker/minimumIdle`` before the test acts.
///
/// Why age matters: a process's threads are not all there for good. Swift's cooperative pool
/// retires idle threads after a few seconds, so per-thread kernel state set from a task (the
/// parent-death signal was) vanishes with them, and only a supervisor that has idled shows it.
/// These tests run in parallel with each other, so the wait is paid about once per run.
@Suite("Aged supervisor", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct AgedSupervisorTests {
    @Test("SIGKILL of a supervisor up 20 s and idle 10 s: its children stop consuming within 1 s and exit within 2 s")
    func idleParentDeath() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await AgedWorker.start(setup)
        let children = worker.childPIDs
        #expect(children.count == 5)
        worker.signal(SIGKILL)
        let killed = ContinuousClock.now
        let consumers = try await ConsumerCount.waitUntil(setup.queue("latency"), is: 0, within: .seconds(5))
        #expect(consumers.count == 0 && consumers.after <= .seconds(1), "latency consumers \(consumers.count) after \(consumers.after)")
        let alive = await ProcessWatch.waitForExit(of: children, within: .seconds(5))
        #expect(alive.isEmpty, "children still alive \(ContinuousClock.now - killed) after the supervisor's death: \(alive)")
        #expect(ContinuousClock.now - killed <= .seconds(2) || !alive.isEmpty, "children took \(ContinuousClock.now - killed) to exit")
        ProcessWatch.kill(alive)
    }

    @Test("SIGKILL of an aged supervisor while a task runs: the task finishes, nobody takes another task, every child exits")
    func busyParentDeath() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await AgedWorker.start(setup)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        defer { Task { await publisher.close() } }
        let sleeper = TaskMessage(name: "demo.sleep", args: [1.5])
        try await publisher.publish(sleeper)
        try await worker.waitForLog(sleeper.id, "task started", timeout: .seconds(10))
        let children = worker.childPIDs
        worker.signal(SIGKILL)
        let killed = ContinuousClock.now
        // Published after the death: no child of the dead supervisor may run it.
        let after = TaskMessage(name: "demo.add", args: [1, 2])
        try await Task.sleep(for: .seconds(1))  // the one-second promise, then the task that must wait
        try await publisher.publish(after)
        let alive = await ProcessWatch.waitForExit(of: children, within: .seconds(10))
        #expect(alive.isEmpty, "children still alive after the supervisor's death: \(alive)")
        let took = ContinuousClock.now - killed
        #expect(took <= .seconds(4), "children took \(took) to exit")
        ProcessWatch.kill(alive)
        try await worker.waitForLog(sleeper.id, "task succeeded", timeout: .seconds(5))  // finished, not abandoned
        #expect(worker.lines(containing: after.id).isEmpty, "a child of a dead supervisor ran a task")
        let broker = try await BrokerIO.open()
        defer { Task { await broker.close() } }
        #expect(try await broker.depth(setup.queue("latency")) == 1)  // still waiting for a live worker
    }

    @Test("an orphaned child whose task outlasts shutdown_timeout exits at that deadline and gives the task back")
    func orphanDeadline() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        try (setup.yaml + "\nshutdown_timeout: 2s\n").write(toFile: setup.path, atomically: true, encoding: .utf8)
        let worker = try await AgedWorker.start(setup)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        defer { Task { await publisher.close() } }
        let sleeper = TaskMessage(name: "demo.sleep", args: [30])
        try await publisher.publish(sleeper)
        try await worker.waitForLog(sleeper.id, "task started", timeout: .seconds(10))
        let busy = try #require(worker.childPID(logging: sleeper.id, "task started"))
        worker.signal(SIGKILL)
        let killed = ContinuousClock.now
        let alive = await ProcessWatch.waitForExit(of: [busy], within: .seconds(10))
        ProcessWatch.kill(alive)
        #expect(alive.isEmpty, "the busy orphan outlived its deadline")
        let took = ContinuousClock.now - killed
        #expect(took >= .seconds(2) && took <= .seconds(4), "exited \(took) after the supervisor's death")
        #expect(worker.lines(containing: "shutdown_timeout passed without a supervisor").count == 1)
        let broker = try await BrokerIO.open()
        defer { Task { await broker.close() } }
        #expect(try await broker.depth(setup.queue("slow")) == 1)  // given back, not lost
    }

    @Test("an aged supervisor counts every task in its metrics within 1 s, reloads on SIGHUP, and shuts down warmly")
    func agedCountsReloadsAndStops() async throws {
        let listen = ListenAddress(host: "127.0.0.1", port: try FreePort.take())
        let setup = try TestSetup(metrics: listen)
        defer { setup.tearDown() }
        let worker = try await AgedWorker.start(setup)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        for i in Int64(0)..<20 { #expect(try await publisher.call(TaskMessage(name: "demo.add", args: [.int(i), 1])) == .int(i + 1)) }
        let answered = ContinuousClock.now
        // 21: AgedWorker ran one before the idle spell.
        let counted = try await scrape(listen, until: { $0.sum("warren_tasks_total") == 21 })
        #expect(counted.sum("warren_tasks_total", ["task": "demo.add", "outcome": "succeeded"]) == 21)
        #expect(ContinuousClock.now - answered <= .seconds(1), "counted \(ContinuousClock.now - answered) after the last reply")
        #expect(worker.lines(containing: "task succeeded").count == 21)

        worker.signal(SIGHUP)
        try await worker.waitForLog("reloaded", timeout: .seconds(30))
        #expect(try await publisher.call(TaskMessage(name: "demo.add", args: [40, 2])) == 42)
        let samples = try await scrape(listen, until: { $0.sum("warren_tasks_total") == 22 })
        #expect(samples.sum("warren_tasks_total") == 22)

        let children = worker.childPIDs
        #expect(children.count == 5)
        await publisher.close()
        #expect(await worker.stop() == 0)
        #expect(await ProcessWatch.waitForExit(of: children, within: .seconds(1)).isEmpty)
    }

    @Test("children of an aged supervisor reconnect after the broker closed their connections")
    func agedReconnects() async throws {
        guard BrokerControl.node != nil else {
            try #require(!IntegrationBroker.required, "WARREN_TEST_RABBITMQ_NODE must be set when the broker is required")
            return
        }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await AgedWorker.start(setup)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let before = Set(worker.childPIDs)
        #expect(try await BrokerControl.closeConnections(named: "\(setup.queue("latency"))#") == 2)
        try await worker.waitForLog("child lost its broker connection", "\(setup.queue("latency"))#1", timeout: .seconds(10))
        #expect(try await publisher.call(TaskMessage(name: "demo.add", args: [4, 3]), timeout: .seconds(20)) == 7)
        #expect(Set(worker.childPIDs) == before)  // reconnected, not restarted
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    @Test("an aged supervisor pauses and resumes a queue by remote control; the resumed children still die with it")
    func agedPauseResume() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await AgedWorker.start(setup)
        let latency = setup.queue("latency")
        let pause = try await DemoBinary.run(["queue", "pause", latency, "--config", setup.path])
        #expect(pause.status == 0, "\(pause.err)")
        try await QueuePauseTests.waitForConsumers(0, on: latency)
        let resume = try await DemoBinary.run(["queue", "resume", latency, "--config", setup.path])
        #expect(resume.status == 0, "\(resume.err)")
        try await QueuePauseTests.waitForConsumers(2, on: latency)
        // Children started by an aged supervisor (not at its start) must hold its parent-death signal too.
        // The paused children may still be on their way out: every child counts.
        let children = worker.childPIDs
        #expect(children.count >= 5)
        worker.signal(SIGKILL)
        let alive = await ProcessWatch.waitForExit(of: children, within: .seconds(5))
        #expect(alive.isEmpty, "children still alive after the supervisor's death: \(alive)")
        ProcessWatch.kill(alive)
    }

    @Test("the parent-death signal from anyone but the kernel is not believed: a child whose supervisor lives goes on")
    func forgedDeathSignalIgnored() async throws {
        let setup = try TestSetup(latency: ["children: 1", "prefetch: 1"])
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let first = TaskMessage(name: "demo.add", args: [1, 1])
        #expect(try await publisher.call(first) == 2)
        let child = try #require(worker.childPID(logging: first.id, "task started"))
        kill(child, SIGUSR2)
        // The child reads the signal, finds its parent alive, and takes the next task itself.
        let second = TaskMessage(name: "demo.add", args: [2, 2])
        #expect(try await publisher.call(second) == 4)
        #expect(worker.childPID(logging: second.id, "task started") == child)
        #expect(worker.lines(containing: "the supervisor is gone").isEmpty)
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    /// Scrapes until `ready` holds, at most 5 s.
    private func scrape(_ listen: ListenAddress, until ready: (MetricSamples) -> Bool) async throws -> MetricSamples {
        let deadline = ContinuousClock.now + .seconds(5)
        var samples = try await MetricSamples.scrape(listen)
        while !ready(samples), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            samples = try await MetricSamples.scrape(listen)
        }
        return samples
    }
}

/// A `warren-demo run` that has been up ``minimumAge`` and idle ``minimumIdle`` when handed over.
enum AgedWorker {
    static let minimumAge = Duration.seconds(20)
    static let minimumIdle = Duration.seconds(10)

    /// Starts the worker, runs one task through it (so the first second's machinery has been
    /// used and gone quiet), then lets it idle until it is old enough.
    static func start(_ setup: TestSetup) async throws -> DemoWorker {
        let started = ContinuousClock.now
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        #expect(try await publisher.call(TaskMessage(name: "demo.add", args: [1, 1])) == 2)
        await publisher.close()
        let idleSince = ContinuousClock.now
        // Time is the input here: nothing to await but the clock.
        try await Task.sleep(until: max(started + minimumAge, idleSince + minimumIdle), clock: .continuous)
        return worker
    }
}
