import Foundation
import Synchronization
import Testing

@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Scheduler: the leader's decisions")
struct SchedulerStateTests {
    typealias Action = SchedulerState.Action

    /// Ticks every 2 s; `t0` is one of them.
    let every2s = ScheduleConfig(name: "beat", task: "demo.noop", timing: .every(try! IntervalSchedule(every: .seconds(2))))
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }
    func ms(_ seconds: Double) -> Int64 { ScheduleToken.milliseconds(at(seconds)) }

    /// A state whose token ids are `n1`, `n2`, ...
    func state(_ schedules: [ScheduleConfig]? = nil) -> SchedulerState {
        let counter = Mutex(0)
        return SchedulerState(schedules: schedules ?? [every2s], node: "me") {
            counter.withLock {
                $0 += 1
                return "n\($0)"
            }
        }
    }

    func token(_ id: String, _ lastFired: [String: Int64] = [:], writer: String = "other") -> [UInt8] {
        ScheduleToken(id: id, writer: writer, writtenAt: 0, lastFired: lastFired).encoded()
    }

    func written(_ actions: [Action]) -> ScheduleToken? {
        actions.lazy.compactMap { if case .writeToken(let token) = $0 { token } else { nil } }.first
    }

    func fires(_ actions: [Action]) -> [SchedulerState.Fire] {
        actions.compactMap { if case .fire(let fire) = $0 { fire } else { nil } }
    }

    @Test("a follower decides nothing: it never got a token")
    func follower() {
        var s = state()
        #expect(s.timerFired(now: at(10)).isEmpty)
        #expect(!s.isLeader)
    }

    @Test("the first token makes this node the leader; it consolidates at once, then acks the old token")
    func becomesLeader() throws {
        var s = state()
        let actions = s.tokenDelivered(tag: 1, body: token("old", ["beat": ms(-2)]), now: at(0.5))
        #expect(actions.first == .becameLeader(heldBy: "other"))
        #expect(s.isLeader)
        // The tick at t0 is due and after the last fired one: it is recorded in the new token.
        let new = try #require(written(actions))
        #expect(new.id == "n1" && new.writer == "me" && new.lastFired == ["beat": ms(0)])
        #expect(!actions.contains { if case .fire = $0 { true } else { false } })  // not before the confirm
        #expect(!actions.contains { if case .ack = $0 { true } else { false } })
        // Confirmed: ack the old token, THEN publish the task.
        let after = s.tokenWritten(id: "n1", now: at(0.6))
        #expect(after.prefix(2) == [.ack([1]), .fire(SchedulerState.Fire(schedule: "beat", tick: at(0), expiresAt: at(2)))])
        #expect(after.last == .wake(at: at(2)))
        #expect(s.lastFired == ["beat": ms(0)])
    }

    @Test("its own token coming back is held, not merged again; the next tick replaces it")
    func ownTokenHeld() throws {
        var s = state()
        _ = s.tokenDelivered(tag: 1, body: token("old", ["beat": ms(0)]), now: at(0.5))
        _ = s.tokenWritten(id: "n1", now: at(0.6))
        // n1 comes back: nothing to write until the next tick.
        #expect(s.tokenDelivered(tag: 2, body: token("n1", ["beat": ms(0)], writer: "me"), now: at(0.7)) == [.wake(at: at(2))])
        let tick = s.timerFired(now: at(2.001))
        #expect(written(tick)?.lastFired == ["beat": ms(2)])
        #expect(
            s.tokenWritten(id: "n2", now: at(2.01)).prefix(2) == [.ack([2]), .fire(.init(schedule: "beat", tick: at(2), expiresAt: at(4)))])
    }

    @Test("a tick already fired by the previous leader is not fired again after a failover")
    func noRepeat() throws {
        var s = state()
        let actions = s.tokenDelivered(tag: 7, body: token("old", ["beat": ms(0)]), now: at(1.2))
        #expect(written(actions)?.lastFired == ["beat": ms(0)])  // consolidation only
        let after = s.tokenWritten(id: "n1", now: at(1.3))
        #expect(fires(after).isEmpty)
        #expect(after == [.ack([7]), .wake(at: at(2))])
    }

    @Test("after a long failover only the latest due tick fires: at most one tick is skipped per gap, none repeated")
    func gap() throws {
        var s = state()
        let actions = s.tokenDelivered(tag: 1, body: token("old", ["beat": ms(0)]), now: at(9))
        #expect(written(actions)?.lastFired == ["beat": ms(8)])
        #expect(fires(s.tokenWritten(id: "n1", now: at(9.1))).map(\.tick) == [at(8)])
    }

    @Test("two tokens (a bootstrap race, or one given back while its successor was on the way) merge: latest tick per schedule")
    func merge() throws {
        var s = state()
        _ = s.tokenDelivered(tag: 1, body: token("a", ["beat": ms(0), "gone": 5]), now: at(0.5))
        // The second arrives while the first write is under way: it waits for the next write.
        #expect(s.tokenDelivered(tag: 2, body: token("b", ["beat": ms(-4), "other": 9]), now: at(0.6)).isEmpty)
        let confirmed = s.tokenWritten(id: "n1", now: at(0.7))
        #expect(confirmed.first == .ack([1]))
        let next = try #require(written(confirmed))
        // Unknown schedules are kept (another node may run them); the older tick loses.
        #expect(next.lastFired == ["beat": ms(0), "gone": 5, "other": 9])
        #expect(s.tokenWritten(id: "n2", now: at(0.8)).first == .ack([2]))
    }

    @Test("an older token given back after a newer one never undoes a fire")
    func olderTokenAfterNewer() throws {
        var s = state()
        _ = s.tokenDelivered(tag: 1, body: token("x", ["beat": ms(0)]), now: at(0.1))
        _ = s.tokenWritten(id: "n1", now: at(0.2))
        _ = s.tokenDelivered(tag: 2, body: token("n1", ["beat": ms(0)], writer: "me"), now: at(0.3))
        let stale = s.tokenDelivered(tag: 3, body: token("stale", ["beat": ms(-10)]), now: at(0.4))
        #expect(written(stale)?.lastFired == ["beat": ms(0)])
    }

    @Test("nothing happens while a write waits for its confirm; a confirm of another id is ignored")
    func oneWriteAtATime() {
        var s = state()
        _ = s.tokenDelivered(tag: 1, body: token("x"), now: at(0.1))
        #expect(s.pendingTokenID == "n1")
        #expect(s.timerFired(now: at(5)).isEmpty)
        #expect(s.tokenWritten(id: "zzz", now: at(5)).isEmpty)
        #expect(s.pendingTokenID == "n1")
    }

    @Test("the leader rewrites its token every refresh interval even when nothing fires (consumer_timeout)")
    func refresh() throws {
        let daily = ScheduleConfig(name: "d", task: "t", timing: .cron(try CronExpression("@daily"), utcZone))
        var s = state([daily])
        _ = s.tokenDelivered(tag: 1, body: token("x"), now: at(0))
        _ = s.tokenWritten(id: "n1", now: at(0.1))
        let back = s.tokenDelivered(tag: 2, body: token("n1", writer: "me"), now: at(0.2))
        #expect(back == [.wake(at: at(60.1))])  // the refresh comes before the next midnight
        #expect(s.timerFired(now: at(30)) == [.wake(at: at(60.1))])
        let refresh = s.timerFired(now: at(60.2))
        #expect(written(refresh)?.id == "n2")
        #expect(s.tokenWritten(id: "n2", now: at(60.3)).first == .ack([2]))
    }

    @Test("a message that is not a token is reported, then acknowledged with the next write")
    func foreign() {
        var s = state()
        let actions = s.tokenDelivered(tag: 4, body: Array("hello".utf8), now: at(0.1))
        #expect(actions.contains(.foreignMessage(tag: 4)))
        #expect(s.tokenWritten(id: "n1", now: at(0.2)).first == .ack([4]))
    }

    @Test("a new schedule without a record does not fire a tick long past (deploying it at 14:00 does not run the 02:30 report)")
    func newScheduleNoRecord() {
        let nightly = ScheduleConfig(name: "n", task: "t", timing: .cron(try! CronExpression("30 2 * * *"), utcZone))
        var s = state([nightly])
        let actions = s.tokenDelivered(tag: 1, body: token("x"), now: instant("2025-06-01T14:00:00Z"))
        #expect(written(actions)?.lastFired == [:])
    }

    @Test("tokens round-trip through JSON; other messages are not tokens")
    func tokenJSON() {
        let t = ScheduleToken(id: "i", writer: "w", writtenAt: 12, lastFired: ["b": 2, "a": 1])
        #expect(ScheduleToken(decoding: t.encoded()) == t)
        #expect(String(decoding: t.encoded(), as: UTF8.self).contains("\"last_fired\":{\"a\":1,\"b\":2}"))
        #expect(ScheduleToken(decoding: Array("{}".utf8)) == nil)
        #expect(ScheduleToken(decoding: Array("{\"id\":\"x\",\"last_fired\":{\"a\":\"no\"}}".utf8)) == nil)
    }
}

@Suite("Scheduler: fire messages")
struct ScheduleMessageTests {
    let schedule = ScheduleConfig(
        name: "beat", task: "demo.add", timing: .every(try! IntervalSchedule(every: .seconds(30))), args: [1, 2], kwargs: ["k": "v"])

    @Test("a Celery v2 task through the routes, with the schedule's headers and expiry")
    func message() throws {
        let tick = instant("2025-06-01T10:00:30Z")
        let message = ScheduleMessage(schedule: schedule, exchange: "warren", tick: tick, expiresAt: tick.addingTimeInterval(30))
        #expect(message.exchange == "warren" && message.routingKey == "demo.add")
        let encoded = message.task.encoded(now: tick)
        let headers = try #require(encoded.properties.headers)
        #expect(headers["task"] == .string("demo.add"))
        #expect(headers["warren-schedule"] == .string("beat"))
        #expect(headers["warren-schedule-tick"] == .string("2025-06-01T10:00:30+00:00"))
        #expect(headers["expires"] == .string("2025-06-01T10:01:00+00:00"))
        #expect(encoded.properties.expiration == "30000")
        #expect(String(decoding: encoded.body, as: UTF8.self).hasPrefix("[[1,2],{\"k\":\"v\"}"))
    }

    @Test("a tick's task id is the same on every node and differs between ticks and schedules")
    func deterministicID() {
        let tick = instant("2025-06-01T10:00:30Z")
        let id = ScheduleMessage.taskID(schedule: "beat", tick: tick)
        #expect(id == ScheduleMessage.taskID(schedule: "beat", tick: tick))
        #expect(id != ScheduleMessage.taskID(schedule: "beat", tick: tick.addingTimeInterval(30)))
        #expect(id != ScheduleMessage.taskID(schedule: "beat2", tick: tick))
        #expect(UUID(uuidString: id) != nil)
        #expect(id.count == 36 && Array(id)[14] == "8" && "89ab".contains(Array(id)[19]))
    }

    @Test("queue sends straight to the queue; routing_key through the exchange")
    func overrides() {
        var direct = schedule
        direct.queue = "special"
        let m = ScheduleMessage(schedule: direct, exchange: "warren", tick: Date(), expiresAt: nil)
        #expect(m.exchange == "" && m.routingKey == "special")
        var keyed = schedule
        keyed.routingKey = "x.y"
        let k = ScheduleMessage(schedule: keyed, exchange: "warren", tick: Date(), expiresAt: nil)
        #expect(k.exchange == "warren" && k.routingKey == "x.y")
    }
}
