import Foundation
import Testing

@testable import WarrenCore

@Suite("Fire plans")
struct FirePlanTests {
    /// Ticks every 30 s; `tick` is one of them.
    let every30s = ScheduleTiming.every(try! IntervalSchedule(every: .seconds(30)))
    let tick = instant("2025-06-01T10:00:30Z")
    /// Daily at 02:30 in Berlin: 00:30Z in summer.
    let nightly = ScheduleTiming.cron(try! CronExpression("30 2 * * *"), berlin)
    let nightlyTick = instant("2025-06-02T00:30:00Z")

    func seconds(_ value: Double, from date: Date) -> Date { date.addingTimeInterval(value) }

    @Test("a normal tick: fires it, expiring one period later, and wakes at the next")
    func normalTick() {
        let now = seconds(0.01, from: tick)
        let plan = FirePlan(timing: every30s, now: now, lastFired: seconds(-30, from: tick), leadingSince: seconds(-600, from: tick))
        #expect(plan.fire == FirePlan.Fire(tick: tick, expiresAt: seconds(30, from: tick)))
        #expect(plan.wakeAt == seconds(30, from: tick))
    }

    @Test("a tick is due at its instant, not before")
    func dueAtItsInstant() {
        let lastFired = seconds(-30, from: tick)
        let early = FirePlan(timing: every30s, now: seconds(-0.001, from: tick), lastFired: lastFired, leadingSince: .distantPast)
        #expect(early.fire == nil)
        #expect(early.wakeAt == tick)
        let onTime = FirePlan(timing: every30s, now: tick, lastFired: lastFired, leadingSince: .distantPast)
        #expect(onTime.fire?.tick == tick)
        #expect(onTime.wakeAt == seconds(30, from: tick))
    }

    @Test("after missing several ticks, fires only the latest")
    func missedSeveral() {
        let plan = FirePlan(
            timing: every30s, now: seconds(12, from: tick), lastFired: seconds(-5 * 30, from: tick), leadingSince: seconds(12, from: tick))
        #expect(plan.fire?.tick == tick)
        #expect(plan.wakeAt == seconds(30, from: tick))
    }

    @Test("a failover of 12 s on a 5 s schedule skips one tick and fires the next")
    func failoverShortPeriod() throws {
        let every5s = ScheduleTiming.every(try IntervalSchedule(every: .seconds(5)))
        // The old leader fired `tick` and died; the new leader takes over 12 s later.
        let plan = FirePlan(timing: every5s, now: seconds(12, from: tick), lastFired: tick, leadingSince: seconds(12, from: tick))
        #expect(plan.fire?.tick == seconds(10, from: tick))  // tick+5 is skipped
        #expect(plan.wakeAt == seconds(15, from: tick))
    }

    @Test("the last fired tick is the current one: nothing to fire")
    func alreadyFired() {
        let plan = FirePlan(timing: every30s, now: seconds(3, from: tick), lastFired: tick, leadingSince: seconds(3, from: tick))
        #expect(plan.fire == nil)
        #expect(plan.wakeAt == seconds(30, from: tick))
    }

    @Test("the last fired tick is in the future (a clock is off): nothing fires until it has passed")
    func lastFiredInFuture() {
        let lastFired = seconds(60, from: tick)
        let plan = FirePlan(timing: every30s, now: seconds(3, from: tick), lastFired: lastFired, leadingSince: seconds(3, from: tick))
        #expect(plan.fire == nil)
        #expect(plan.wakeAt == seconds(90, from: tick))
        let later = FirePlan(timing: every30s, now: seconds(90, from: tick), lastFired: lastFired, leadingSince: seconds(3, from: tick))
        #expect(later.fire?.tick == seconds(90, from: tick))
    }

    @Test("a tick older than its expiry is not fired")
    func expired() {
        // The leader died before 02:30 and the next one starts at 04:30 (local): two hours late.
        let now = seconds(2 * 3_600, from: nightlyTick)
        let yesterday = seconds(-86_400, from: nightlyTick)
        let withOneHour = FirePlan(timing: nightly, now: now, lastFired: yesterday, leadingSince: now, expires: .seconds(3_600))
        #expect(withOneHour.fire == nil)
        #expect(withOneHour.wakeAt == seconds(86_400, from: nightlyTick))
        // By default a fire lives one period (a day here): it still fires, expiring at the next tick.
        let byDefault = FirePlan(timing: nightly, now: now, lastFired: yesterday, leadingSince: now)
        #expect(byDefault.fire == FirePlan.Fire(tick: nightlyTick, expiresAt: seconds(86_400, from: nightlyTick)))
        // Expiry is exclusive: at exactly tick + expires the message would be dead on arrival.
        let atExpiry = FirePlan(
            timing: every30s, now: seconds(10, from: tick), lastFired: seconds(-30, from: tick), leadingSince: .distantPast,
            expires: .seconds(10))
        #expect(atExpiry.fire == nil)
    }

    @Test("first start: fires a tick that became due within the grace")
    func firstStartWithinGrace() throws {
        let now = seconds(3, from: tick)
        let plan = FirePlan(timing: every30s, now: now, lastFired: nil, leadingSince: now)
        #expect(plan.fire?.tick == tick)
        #expect(plan.wakeAt == seconds(30, from: tick))
        // The grace is one period when that is shorter than 10 s.
        let every5s = ScheduleTiming.every(try IntervalSchedule(every: .seconds(5)))
        #expect(
            FirePlan(timing: every5s, now: seconds(4.9, from: tick), lastFired: nil, leadingSince: seconds(4.9, from: tick)).fire?.tick
                == tick)
    }

    @Test("first start: waits for the next tick when the current one is older than the grace")
    func firstStartTooLate() {
        let now = seconds(10, from: tick)
        let plan = FirePlan(timing: every30s, now: now, lastFired: nil, leadingSince: now)
        #expect(plan.fire == nil)
        #expect(plan.wakeAt == seconds(30, from: tick))
        // A nightly report deployed in the afternoon does not run at once.
        let afternoon = instant("2025-06-02T12:00:00Z")
        let nightlyPlan = FirePlan(timing: nightly, now: afternoon, lastFired: nil, leadingSince: afternoon)
        #expect(nightlyPlan.fire == nil)
        #expect(nightlyPlan.wakeAt == instant("2025-06-03T00:30:00Z"))
        // Looking again later (a configuration reload, a spurious wake-up) does not change the answer.
        let again = FirePlan(timing: nightly, now: seconds(300, from: afternoon), lastFired: nil, leadingSince: afternoon)
        #expect(again.fire == nil)
    }

    @Test("no record yet, but the tick came due while this node led: fires it even when woken late")
    func firstTickWhileLeading() {
        let leadingSince = seconds(-20, from: tick)
        let plan = FirePlan(timing: every30s, now: seconds(15, from: tick), lastFired: nil, leadingSince: leadingSince)
        #expect(plan.fire?.tick == tick)
    }

    @Test("across the day without 02:30, the nightly schedule waits two days and its fire lives 47 hours")
    func nightlyAcrossSpringForward() {
        let saturdayTick = instant("2025-03-29T01:30:00Z")
        let sunday = instant("2025-03-30T12:00:00Z")
        let plan = FirePlan(timing: nightly, now: sunday, lastFired: saturdayTick, leadingSince: .distantPast)
        #expect(plan.fire == nil)
        #expect(plan.wakeAt == instant("2025-03-31T00:30:00Z"))
        let late = FirePlan(timing: nightly, now: sunday, lastFired: seconds(-86_400, from: saturdayTick), leadingSince: .distantPast)
        #expect(late.fire == FirePlan.Fire(tick: saturdayTick, expiresAt: instant("2025-03-31T00:30:00Z")))
    }
}
