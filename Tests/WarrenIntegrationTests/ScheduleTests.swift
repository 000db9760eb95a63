import AMQP
import Foundation
import Synchronization
import Testing
import Warren

/// Periodic schedules with real supervisors on the broker (docs/schedules.md): one fire per tick
/// across supervisors, failover when the leader is killed, `schedule run` and `schedule list`.
@Suite("Schedules", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct ScheduleTests {
    /// A schedule whose fires go straight to `<prefix>.fires`, a queue no child consumes.
    static func schedules(every: String) -> String {
        """
        schedules:
          beat:
            task: demo.noop
            every: \(every)
            queue: PREFIX.fires
        """
    }

    /// One fire as the test saw it arrive.
    struct Fire: Sendable {
        var arrival: ContinuousClock.Instant
        var tick: String
        var id: String
    }

    /// Declares `<prefix>.fires` and records every message that reaches it.
    final class FireCollector: Sendable {
        private struct State {
            var fires: [Fire] = []
            var waiters: [(id: Int, count: Int, continuation: CheckedContinuation<Bool, Never>)] = []
            var nextID = 0
        }
        let broker: BrokerIO
        private let state = Mutex(State())
        private let reader = Mutex<Task<Void, Never>?>(nil)

        init(queue: String, arguments: AMQPTable = [:]) async throws {
            broker = try await BrokerIO.open()
            try await broker.io.perform { connection throws(AMQPError) in
                let channel = try connection.openChannel(3)
                try channel.declareQueue(queue, durable: true, arguments: arguments)
                try channel.consume(queue: queue, noAck: true)
            }
            let events = broker.io.events
            let task = Task { [self] in
                for await event in events {
                    guard case .delivery(let delivery) = event else { continue }
                    let headers = delivery.properties.headers ?? [:]
                    let tick = headers["warren-schedule-tick"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "?"
                    record(Fire(arrival: .now, tick: tick, id: delivery.properties.messageID ?? "?"))
                }
            }
            reader.withLock { $0 = task }
        }

        private func record(_ fire: Fire) {
            let ready = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
                s.fires.append(fire)
                let count = s.fires.count
                let ready = s.waiters.filter { $0.count <= count }.map(\.continuation)
                s.waiters.removeAll { $0.count <= count }
                return ready
            }
            ready.forEach { $0.resume(returning: true) }
        }

        var all: [Fire] { state.withLock { $0.fires } }

        /// Waits until `count` fires arrived in all; `false` after `timeout`.
        func wait(forCount count: Int, timeout: Duration) async -> Bool {
            let id = state.withLock { s -> Int in
                s.nextID += 1
                return s.nextID
            }
            let timer = Task { [self] in
                try? await Task.sleep(for: timeout)
                let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
                    guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return s.waiters.remove(at: i).continuation
                }
                waiter?.resume(returning: false)
            }
            defer { timer.cancel() }
            return await withCheckedContinuation { continuation in
                let done = state.withLock { s -> Bool in
                    if s.fires.count >= count { return true }
                    s.waiters.append((id, count, continuation))
                    return false
                }
                if done { continuation.resume(returning: true) }
            }
        }

        func close() async {
            reader.withLock { $0?.cancel() }
            await broker.close()
        }
    }

    /// Starts a supervisor of `setup` and waits until it leads the schedules, or takes part in
    /// the election behind a leader.
    static func supervisor(_ setup: TestSetup, leading: Bool) async throws -> DemoWorker {
        let worker = try await DemoWorker(config: setup.path)
        let line = leading ? "schedule leader: this node" : "scheduler: taking part in the election"
        try await worker.waitForLog(line, timeout: .seconds(15))
        return worker
    }

    @Test("two supervisors, every 2s: one fire per tick between them; SIGKILL the leader: the other fires on within 10 s")
    func twoSupervisorsAndFailover() async throws {
        let setup = try TestSetup(latency: ["children: 1", "prefetch: 8"], extra: Self.schedules(every: "2s"))
        defer { setup.tearDown() }
        let collector = try await FireCollector(queue: setup.queue("fires"))
        let first = try await Self.supervisor(setup, leading: true)
        let second = try await Self.supervisor(setup, leading: false)

        // 12 s of both running: 6 ticks, give or take one at either end.
        let start = ContinuousClock.now
        try await Task.sleep(for: .seconds(12))
        let window = collector.all.filter { $0.arrival >= start && $0.arrival < start + .seconds(12) }
        print("schedules: \(window.count) fires in 12 s with two supervisors")
        #expect((5...7).contains(window.count), "fires in 12 s: \(window.map(\.tick))")
        #expect(second.lines(containing: "fired beat").isEmpty, "the follower fired")

        // The leader dies without a word: its connection closes, the broker hands the token on.
        let killed = ContinuousClock.now
        kill(first.pid, SIGKILL)
        try await second.waitForLog("schedule leader: this node", timeout: .seconds(10))
        try await second.waitForLog("fired beat tick", timeout: .seconds(10))
        let before = collector.all.filter { $0.arrival <= killed }.count
        #expect(await collector.wait(forCount: before + 1, timeout: .seconds(10)))
        let afterKill = try #require(collector.all.first { $0.arrival > killed })
        let takeover = afterKill.arrival - killed
        print("schedules: first fire \(takeover) after SIGKILL of the leader")
        #expect(takeover < .seconds(10))
        // A couple more fires from the new leader.
        #expect(await collector.wait(forCount: collector.all.count + 2, timeout: .seconds(6)))

        let fires = collector.all
        let ticks = fires.map(\.tick)
        #expect(Set(ticks).count == ticks.count, "a tick fired twice: \(ticks)")
        #expect(Set(fires.map(\.id)).count == fires.count)
        // No two fires closer than a period, judged by the ticks they carry: when they arrive
        // depends on the machine's load too (on CI's 2 cores a fire published late was followed
        // by the next one on time, 0.7 s apart), which says nothing about a tick fired twice.
        let tickTimes = ticks.compactMap { CeleryTime.parse($0) }.sorted()
        #expect(tickTimes.count == ticks.count, "unreadable ticks: \(ticks)")
        let tickGaps = zip(tickTimes.dropFirst(), tickTimes).map { $0.timeIntervalSince($1) }
        #expect(tickGaps.allSatisfy { $0 >= 1.999 }, "ticks closer than the 2 s period: \(tickGaps)")
        let arrivals = zip(fires.dropFirst(), fires).map { $0.arrival - $1.arrival }
        print("schedules: arrival gaps \(arrivals)")
        #expect(await second.stop() == 0)
        await collector.close()
    }

    @Test("the leader frozen 7 s (as through a broker outage) then cut off from the broker: fires resume, no tick twice, no catch-up burst")
    func gapThenReconnect() async throws {
        guard BrokerControl.node != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup(latency: ["children: 1", "prefetch: 8"], extra: Self.schedules(every: "2s"))
        defer { setup.tearDown() }
        let collector = try await FireCollector(queue: setup.queue("fires"))
        let leader = try await Self.supervisor(setup, leading: true)
        #expect(await collector.wait(forCount: 2, timeout: .seconds(10)))
        // Three ticks pass while the supervisor cannot act (its 4 s heartbeat may lose it the
        // connection too, as a broker restart does): once back, only the latest due tick fires.
        let stopped = Date()
        kill(leader.pid, SIGSTOP)
        try await Task.sleep(for: .seconds(7))  // the gap is the input: nothing to await
        kill(leader.pid, SIGCONT)
        let resumed = Date()
        #expect(await collector.wait(forCount: collector.all.count + 1, timeout: .seconds(10)))
        // Then the broker drops its connection: it reconnects and fires on.
        _ = try await BrokerControl.closeConnections(named: "scheduler pid \(leader.pid)")
        #expect(await collector.wait(forCount: collector.all.count + 2, timeout: .seconds(15)))

        let ticks = collector.all.map(\.tick)
        #expect(Set(ticks).count == ticks.count, "a tick fired twice: \(ticks)")
        let tickTimes = ticks.compactMap { CeleryTime.parse($0) }
        #expect(tickTimes.count == ticks.count, "unreadable ticks: \(ticks)")
        let inGap = tickTimes.filter { $0 > stopped && $0 <= resumed }
        #expect(inGap.count <= 1, "catch-up fires for the ticks of the gap: \(inGap)")
        #expect(await leader.stop() == 0)
        await collector.close()
    }

    @Test("a fire the broker refuses (its queue full, reject-publish) is published again once there is room, before it expires")
    func refusedFireRetried() async throws {
        let setup = try TestSetup(
            latency: ["children: 1", "prefetch: 8"],
            extra: """
                schedules:
                  beat:
                    task: demo.noop
                    every: 3s
                    expires: 1m
                    queue: PREFIX.fires
                """)
        defer { setup.tearDown() }
        let queue = setup.queue("fires")
        let full: AMQPTable = ["x-max-length": .int32(1), "x-overflow": .string("reject-publish")]
        let filler = try await BrokerIO.open()
        try await filler.io.perform { connection throws(AMQPError) in
            _ = try connection.openChannel(3).declareQueue(queue, durable: true, arguments: full)
        }
        try await filler.publish(Array("filler".utf8), exchange: "", routingKey: queue)
        await filler.close()
        let leader = try await Self.supervisor(setup, leading: true)
        try await leader.waitForLog("schedule fire refused by the broker; retrying", timeout: .seconds(20))
        let refused = try #require(leader.lines(containing: "schedule fire refused by the broker; retrying").first)
        let tick = try #require(refused.firstRange(of: "tick=").map { String(refused[$0.upperBound...].prefix { $0 != " " }) })
        // Room again: the collector takes the filler, then what the broker now accepts.
        let collector = try await FireCollector(queue: queue, arguments: full)
        try await leader.waitForLog("fired beat tick \(tick)", timeout: .seconds(20))
        #expect(await collector.wait(forCount: 2, timeout: .seconds(10)))
        #expect(collector.all.contains { $0.tick == tick }, "the refused tick \(tick) never arrived: \(collector.all.map(\.tick))")
        #expect(await leader.stop() == 0)
        await collector.close()
    }

    @Test("leadership passes on twice: the leader dies, a third supervisor joins, the second dies: fires go on, no tick twice")
    func thirdJoinsSecondDies() async throws {
        let setup = try TestSetup(latency: ["children: 1", "prefetch: 8"], extra: Self.schedules(every: "1s"))
        defer { setup.tearDown() }
        let collector = try await FireCollector(queue: setup.queue("fires"))
        let first = try await Self.supervisor(setup, leading: true)
        let second = try await Self.supervisor(setup, leading: false)
        #expect(await collector.wait(forCount: 2, timeout: .seconds(10)))

        kill(first.pid, SIGKILL)
        try await second.waitForLog("schedule leader: this node", timeout: .seconds(10))
        let third = try await Self.supervisor(setup, leading: false)
        #expect(await collector.wait(forCount: collector.all.count + 2, timeout: .seconds(10)))
        #expect(third.lines(containing: "fired beat").isEmpty, "the newcomer fired while the second led")

        let killed = ContinuousClock.now
        kill(second.pid, SIGKILL)
        try await third.waitForLog("schedule leader: this node", timeout: .seconds(10))
        let before = collector.all.filter { $0.arrival <= killed }.count
        #expect(await collector.wait(forCount: before + 2, timeout: .seconds(10)))
        let takeover = try #require(collector.all.first { $0.arrival > killed }).arrival - killed
        print("schedules: third supervisor's first fire \(takeover) after SIGKILL of the second")
        #expect(takeover < .seconds(10))

        let ticks = collector.all.map(\.tick)
        #expect(Set(ticks).count == ticks.count, "a tick fired twice: \(ticks)")
        #expect(await third.stop() == 0)
        await collector.close()
    }

    @Test("status --json names the schedule leader from the broker's record")
    func statusNamesLeader() async throws {
        let setup = try TestSetup(extra: Self.schedules(every: "1h"))
        defer { setup.tearDown() }
        let before = try await DemoBinary.run(["status", "--json", "--interval", "0.1", "--config", setup.path])
        let none = try JSONDecoder.snakeCase.decode(StatusReport.self, from: Data(before.out.utf8))
        #expect(none.scheduleLeader == nil)
        let worker = try await DemoWorker(config: setup.path)
        try await worker.waitForLog("schedule leader: this node", timeout: .seconds(30))
        // The leader writes its record right after it took the token: poll the broker's copy.
        var report: StatusReport?
        let deadline = ContinuousClock.now + .seconds(20)
        repeat {
            let run = try await DemoBinary.run(["status", "--json", "--interval", "0.1", "--config", setup.path])
            report = try JSONDecoder.snakeCase.decode(StatusReport.self, from: Data(run.out.utf8))
        } while report?.scheduleLeader == nil && ContinuousClock.now < deadline
        #expect(report?.scheduleLeader?.contains("pid \(worker.pid)") == true, "\(String(describing: report?.scheduleLeader))")
        #expect(report?.scheduleLeaderWroteAt.map { abs($0.timeIntervalSinceNow) < 60 } == true)
        #expect(await worker.stop() == 0)
    }

    @Test("schedule run fires exactly once, with a fresh task id; schedule list shows the schedule")
    func runOnce() async throws {
        let setup = try TestSetup(extra: Self.schedules(every: "1h"))
        defer { setup.tearDown() }
        let collector = try await FireCollector(queue: setup.queue("fires"))
        let run = try await DemoBinary.run(["schedule", "run", "beat", "--config", setup.path])
        #expect(run.status == 0, "\(run.err)")
        let id = run.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(UUID(uuidString: id) != nil)
        let again = try await DemoBinary.run(["schedule", "run", "beat", "--config", setup.path])
        #expect(again.status == 0)
        #expect(again.out.trimmingCharacters(in: .whitespacesAndNewlines) != id)  // a fresh id each time
        #expect(await collector.wait(forCount: 2, timeout: .seconds(10)))
        #expect(collector.all.map(\.id) == [id, again.out.trimmingCharacters(in: .whitespacesAndNewlines)])

        let unknown = try await DemoBinary.run(["schedule", "run", "nope", "--config", setup.path])
        #expect(unknown.status != 0 && unknown.err.contains("no schedule named nope"))

        let list = try await DemoBinary.run(["schedule", "list", "--config", setup.path])
        #expect(list.status == 0, "\(list.err)")
        #expect(list.out.contains("beat") && list.out.contains("every 1h") && list.out.contains("leader: unknown"))
        await collector.close()
    }
}
