#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif
import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// The supervisor's decisions alone: events in, exact actions out, in the orderings that real
/// processes and a broker make hard to provoke.
@Suite("Supervisor state machine")
struct SupervisorStateTests {
    typealias State = SupervisorState
    typealias Key = SupervisorState.SlotKey
    typealias ID = SupervisorState.ChildID

    let a = Key(queue: "q", slot: 1)
    let b = Key(queue: "q", slot: 2)
    let t0 = ContinuousClock.now

    func c(_ n: Int) -> ID { ID(n) }

    /// Children of queue "q" alive and ready.
    func counts(_ state: State) -> [Int] {
        let count = state.childCount(queue: "q")
        return [count.alive, count.ready]
    }

    /// A pool of `keys` whose children 1, 2, ... started at `t0` (and consume, if `ready`).
    func pool(_ keys: [Key], ready: Bool = true) -> State {
        var state = State()
        let spawns = state.start(keys, now: t0)
        #expect(spawns == keys.enumerated().map { .spawn($1, c($0 + 1)) })
        for n in keys.indices {
            #expect(state.childStarted(c(n + 1), now: t0) == [.note(.childStarted(keys[n], c(n + 1)))])
            if ready { _ = state.childReady(c(n + 1)) }
        }
        return state
    }

    // MARK: - Restarts

    @Test("a child that keeps dying restarts after 1 s, 2 s, 4 s, ... up to 30 s")
    func backoffSequence() {
        var state = pool([a], ready: false)
        var now = t0
        var id = 1
        for expected in [1, 2, 4, 8, 16, 30, 30] as [Int64] {
            now += .seconds(1)
            #expect(
                state.childExited(c(id), exit: .exited(1), running: [], finished: 0, now: now) == [
                    .note(.childRestarting(a, c(id), .crashed, .exited(1), running: [], after: .seconds(expected))),
                    .scheduleRestart(a, after: .seconds(expected)),
                ])
            #expect(state.restartTimerFired(a, now: now) == [.spawn(a, c(id + 1))])
            #expect(state.restartTimerFired(a, now: now) == [])  // a spawn is under way
            id += 1
            _ = state.childStarted(c(id), now: now)
            #expect(state.restartTimerFired(a, now: now) == [])  // the slot has its child
        }
    }

    @Test("the delay goes back to 1 s once a child consumes again")
    func backoffResetOnReady() {
        var state = pool([a], ready: false)
        for n in 1...3 {
            _ = state.childExited(c(n), exit: .signalled(SIGSEGV), running: [], finished: 0, now: t0)
            _ = state.restartTimerFired(a, now: t0)
            _ = state.childStarted(c(n + 1), now: t0)
        }
        _ = state.childReady(c(4))
        #expect(
            state.childExited(c(4), exit: .signalled(SIGSEGV), running: [], finished: 0, now: t0) == [
                .note(.childRestarting(a, c(4), .killed, .signalled(SIGSEGV), running: [], after: .seconds(1))),
                .scheduleRestart(a, after: .seconds(1)),
            ])
    }

    @Test("the delay goes back to 1 s when the child that died had run over a minute")
    func backoffResetAfterAMinute() {
        var state = pool([a], ready: false)
        _ = state.childExited(c(1), exit: .exited(1), running: [], finished: 0, now: t0)  // 1 s
        _ = state.restartTimerFired(a, now: t0)
        _ = state.childStarted(c(2), now: t0)
        _ = state.childExited(c(2), exit: .exited(1), running: [], finished: 0, now: t0 + .seconds(59))  // 2 s
        _ = state.restartTimerFired(a, now: t0 + .seconds(61))
        _ = state.childStarted(c(3), now: t0 + .seconds(61))
        // Ran 60 s: not yet over a minute, the doubling goes on.
        #expect(
            state.childExited(c(3), exit: .exited(1), running: [], finished: 0, now: t0 + .seconds(121)) == [
                .note(.childRestarting(a, c(3), .crashed, .exited(1), running: [], after: .seconds(4))),
                .scheduleRestart(a, after: .seconds(4)),
            ])
        _ = state.restartTimerFired(a, now: t0 + .seconds(125))
        _ = state.childStarted(c(4), now: t0 + .seconds(125))
        #expect(
            state.childExited(c(4), exit: .exited(1), running: [], finished: 0, now: t0 + .seconds(186)) == [
                .note(.childRestarting(a, c(4), .crashed, .exited(1), running: [], after: .seconds(1))),
                .scheduleRestart(a, after: .seconds(1)),
            ])
    }

    @Test("a spawn that fails is tried again with the backoff")
    func spawnFailure() {
        var state = State()
        _ = state.start([a], now: t0)
        #expect(state.spawnFailed(c(1), now: t0) == [.scheduleRestart(a, after: .seconds(1))])
        #expect(state.restartTimerFired(a, now: t0) == [.spawn(a, c(2))])
        #expect(state.spawnFailed(c(2), now: t0) == [.scheduleRestart(a, after: .seconds(2))])
        #expect(state.spawnFailed(c(2), now: t0) == [])  // reported once only
    }

    // MARK: - Recycling

    @Test("a clean exit after a recycling report is replaced at once; a crash while recycling is a crash")
    func recycleVersusCrash() {
        var state = pool([a])
        #expect(state.childRecycling(c(1), reason: "max-tasks") == [])
        #expect(
            state.childExited(c(1), exit: .exited(0), running: [], finished: 100, now: t0) == [
                .note(.childRecycled(a, c(1), reason: "max-tasks", .exited(0), running: [])),
                .spawn(a, c(2)),
            ])
        #expect(state.tasksFinishedByExitedChildren == 100)
        _ = state.childStarted(c(2), now: t0)
        _ = state.childRecycling(c(2), reason: "max-memory")
        #expect(
            state.childExited(c(2), exit: .exited(1), running: ["t"], finished: 0, now: t0) == [
                .note(.childRestarting(a, c(2), .crashed, .exited(1), running: ["t"], after: .seconds(1))),
                .scheduleRestart(a, after: .seconds(1)),
            ])
        _ = state.restartTimerFired(a, now: t0)
        _ = state.childStarted(c(3), now: t0)
        // Exiting with 0 unasked is no recycling either.
        #expect(
            state.childExited(c(3), exit: .exited(0), running: [], finished: 0, now: t0) == [
                .note(.childRestarting(a, c(3), .crashed, .exited(0), running: [], after: .seconds(2))),
                .scheduleRestart(a, after: .seconds(2)),
            ])
    }

    // MARK: - Shutdown

    @Test("a warm shutdown sends SIGTERM to every child and finishes only when all are gone")
    func shutdownWaitsForEveryChild() {
        var state = pool([a, b])
        #expect(
            state.shutdownRequested(timeout: .seconds(60)) == [
                .note(.shuttingDown(children: 2)), .notifySystemd(.stopping),
                .signal(c(1), SIGTERM), .signal(c(2), SIGTERM),
                .scheduleShutdownTimeout(after: .seconds(60)),
            ])
        #expect(
            state.childExited(c(2), exit: .exited(0), running: [], finished: 3, now: t0) == [
                .note(.childStopped(b, c(2), .exited(0), running: []))
            ])
        // Not restarted, even when it crashed.
        #expect(
            state.childExited(c(1), exit: .signalled(SIGSEGV), running: [], finished: 0, now: t0) == [
                .note(.childStopped(a, c(1), .signalled(SIGSEGV), running: [])),
                .finish(0),
            ])
        #expect(state.restartTimerFired(a, now: t0) == [])
        #expect(state.shutdownTimeoutPassed() == [])
        #expect(state.killTimerFired() == [])
    }

    @Test("a child whose spawn was under way when the shutdown began gets SIGTERM once it runs")
    func spawningDuringShutdown() {
        var state = pool([a, b])
        _ = state.childExited(c(2), exit: .exited(1), running: [], finished: 0, now: t0)
        #expect(state.restartTimerFired(b, now: t0) == [.spawn(b, c(3))])
        _ = state.shutdownRequested(timeout: .seconds(60))
        #expect(
            state.childExited(c(1), exit: .exited(0), running: [], finished: 0, now: t0) == [
                .note(.childStopped(a, c(1), .exited(0), running: []))  // no finish: c3 is coming
            ])
        #expect(state.childStarted(c(3), now: t0) == [.note(.childStarted(b, c(3))), .signal(c(3), SIGTERM)])
        #expect(
            state.childExited(c(3), exit: .exited(0), running: [], finished: 0, now: t0) == [
                .note(.childStopped(b, c(3), .exited(0), running: [])), .finish(0),
            ])
    }

    @Test("a spawn that fails during the shutdown is not retried and lets it finish")
    func spawnFailsDuringShutdown() {
        var state = State()
        _ = state.start([a], now: t0)
        #expect(
            state.shutdownRequested(timeout: .seconds(5)) == [
                .note(.shuttingDown(children: 0)), .notifySystemd(.stopping), .scheduleShutdownTimeout(after: .seconds(5)),
            ])
        #expect(state.spawnFailed(c(1), now: t0) == [.finish(0)])
    }

    @Test("with no child left, the shutdown finishes at once")
    func shutdownWithoutChildren() {
        var state = pool([a])
        _ = state.childExited(c(1), exit: .exited(1), running: [], finished: 0, now: t0)
        #expect(
            state.shutdownRequested(timeout: .seconds(60)) == [
                .note(.shuttingDown(children: 0)), .notifySystemd(.stopping), .scheduleShutdownTimeout(after: .seconds(60)), .finish(0),
            ])
        #expect(state.shutdownRequested(timeout: .seconds(60)) == [])  // finished: a second signal changes nothing
    }

    @Test("a second signal stops the children at once, then kills them 10 s later")
    func secondSignal() {
        var state = pool([a, b])
        _ = state.shutdownRequested(timeout: .seconds(60))
        #expect(
            state.shutdownRequested(timeout: .seconds(60)) == [
                .note(.stoppingNow(.secondSignal)), .signal(c(1), SIGTERM), .signal(c(2), SIGTERM), .scheduleKill(after: .seconds(10)),
            ])
        #expect(state.shutdownRequested(timeout: .seconds(60)) == [])  // a third signal
        #expect(state.shutdownTimeoutPassed() == [])  // stopping already
        _ = state.childExited(c(1), exit: .exited(0), running: [], finished: 0, now: t0)
        #expect(state.killTimerFired() == [.signal(c(2), SIGKILL)])
    }

    @Test("shutdown_timeout stops the children at once")
    func shutdownTimeout() {
        var state = pool([a])
        _ = state.shutdownRequested(timeout: .seconds(2))
        #expect(
            state.shutdownTimeoutPassed() == [
                .note(.stoppingNow(.shutdownTimeout(.seconds(2)))), .signal(c(1), SIGTERM), .scheduleKill(after: .seconds(10)),
            ])
        #expect(state.shutdownRequested(timeout: .seconds(2)) == [])  // a second signal after it
    }

    @Test("a shutdown signal during a child's reconnection: it gets SIGTERM, and its ready later announces nothing")
    func signalDuringReconnect() {
        var state = pool([a, b], ready: false)
        _ = state.childReady(c(1))
        #expect(state.childDisconnected(c(1)) == [.note(.childDisconnected(a, c(1)))])
        #expect(state.readyCount == 0)
        _ = state.shutdownRequested(timeout: .seconds(60))
        #expect(state.childReady(c(2)) == [.note(.childConsuming(b, c(2)))])
        #expect(state.childReady(c(1)) == [.note(.childConsuming(a, c(1))), .note(.childReconnected(a, c(1)))])
        #expect(!state.announcedReady)  // every child consumes, but the pool is stopping
    }

    // MARK: - Readiness

    @Test("ready is announced once every slot's child consumes, once")
    func readyAnnouncement() {
        var state = pool([a, b], ready: false)
        #expect(state.childReady(c(1)) == [.note(.childConsuming(a, c(1)))])
        #expect(
            state.childReady(c(2)) == [
                .note(.childConsuming(b, c(2))), .note(.everyChildReady(children: 2)), .notifySystemd(.ready(consuming: 2, of: 2)),
            ])
        #expect(state.childReady(c(2)) == [.note(.childConsuming(b, c(2)))])
        #expect(counts(state) == [2, 2])
    }

    @Test("a disconnect then ready marks a reconnection; the child counts as ready only after it")
    func disconnectThenReady() {
        var state = pool([a])
        #expect(state.childDisconnected(c(1)) == [.note(.childDisconnected(a, c(1)))])
        #expect(counts(state) == [1, 0])
        #expect(state.childReady(c(1)) == [.note(.childConsuming(a, c(1))), .note(.childReconnected(a, c(1)))])
        #expect(counts(state) == [1, 1])
        #expect(state.childReady(c(1)) == [.note(.childConsuming(a, c(1)))])  // reconnected once
    }

    @Test("a report arriving after the child's exit was taken is ignored")
    func reportAfterExit() {
        var state = pool([a, b])
        _ = state.childExited(c(1), exit: .signalled(SIGKILL), running: ["t"], finished: 0, now: t0)
        #expect(state.childReady(c(1)) == [])
        #expect(state.childDisconnected(c(1)) == [])
        #expect(state.childRecycling(c(1), reason: "max-tasks") == [])
        #expect(state.deathsQueried("t", from: c(1), endedChildren: [:]) == [])
        #expect(state.childExited(c(1), exit: .signalled(SIGKILL), running: ["t"], finished: 0, now: t0) == [])
        // The exit counted the death once.
        #expect(
            state.deathsQueried("t", from: c(2), endedChildren: [:]) == [
                .answerDeaths(to: c(2), SupervisorNotice(id: "t", deaths: TaskDeaths(count: 1, reason: .poison)))
            ])
        #expect(!state.isLive(c(1)))
    }

    // MARK: - Hard time limit and poison

    @Test("the hard limit kills a child once, and its running tasks die of time-limit")
    func hardLimit() {
        var state = pool([a, b])
        let running: [ID: [String: Double?]] = [c(1): ["late": 100, "ok": nil], c(2): ["fine": 200]]
        #expect(state.hardLimitTick(wallClock: 100, running: running) == [])  // not past it yet
        #expect(
            state.hardLimitTick(wallClock: 150, running: running) == [
                .note(.hardLimitKill(a, c(1), tasks: ["late"])), .signal(c(1), SIGKILL),
            ])
        #expect(state.hardLimitTick(wallClock: 160, running: running) == [])  // once
        #expect(
            state.childExited(c(1), exit: .signalled(SIGKILL), running: ["late", "ok"], finished: 0, now: t0) == [
                .note(.childRestarting(a, c(1), .timeLimit, .signalled(SIGKILL), running: ["late", "ok"], after: .seconds(1))),
                .scheduleRestart(a, after: .seconds(1)),
            ])
        #expect(
            state.deathsQueried("late", from: c(2), endedChildren: [:]) == [
                .answerDeaths(to: c(2), SupervisorNotice(id: "late", deaths: TaskDeaths(count: 1, reason: .timeLimit)))
            ])
        #expect(
            state.deathsQueried("other", from: c(2), endedChildren: [:]) == [
                .answerDeaths(to: c(2), SupervisorNotice(id: "other", deaths: nil))
            ])
    }

    @Test("revoke with terminate: the child running the task is killed once, no task is blamed, its slot starts again at once")
    func terminate() {
        var state = pool([a, b])
        let running: [ID: Set<String>] = [c(1): ["revoked", "other"], c(2): ["fine"]]
        #expect(state.terminateRequested(["nowhere"], running: running) == [])
        #expect(
            state.terminateRequested(["revoked"], running: running) == [
                .note(.terminating(a, c(1), tasks: ["revoked"])), .signal(c(1), SIGKILL),
            ])
        #expect(state.terminateRequested(["revoked"], running: running) == [])  // once
        // Its other task comes back to c2 before c1's exit is taken: not a death either.
        #expect(
            state.deathsQueried("other", from: c(2), endedChildren: [c(1): ["revoked", "other"]]) == [
                .answerDeaths(to: c(2), SupervisorNotice(id: "other", deaths: nil))
            ])
        #expect(
            state.childExited(c(1), exit: .signalled(SIGKILL), running: ["revoked", "other"], finished: 0, now: t0) == [
                .note(.childTerminated(a, c(1), .signalled(SIGKILL), running: ["other", "revoked"])), .spawn(a, c(3)),
            ])
        #expect(
            state.deathsQueried("other", from: c(2), endedChildren: [:]) == [
                .answerDeaths(to: c(2), SupervisorNotice(id: "other", deaths: nil))
            ])
    }

    @Test("a death reported BEFORE its exit is taken: the ended child counts, and only once after its exit")
    func deathsQueryBeforeExit() {
        var state = pool([a, b])
        // Two earlier deaths of "t": c1, then its replacement c3; c4 replaces c3.
        for (dying, next) in [(1, 3), (3, 4)] {
            _ = state.childExited(c(dying), exit: .signalled(SIGSEGV), running: ["t"], finished: 0, now: t0)
            #expect(state.restartTimerFired(a, now: t0) == [.spawn(a, c(next))])
            _ = state.childStarted(c(next), now: t0)
        }
        // c4 crashed running "t"; the broker redelivered to c2 before c4's exit was taken.
        #expect(
            state.deathsQueried("t", from: c(2), endedChildren: [c(4): ["t", "u"]]) == [
                .answerDeaths(to: c(2), SupervisorNotice(id: "t", deaths: TaskDeaths(count: 3, reason: .poison)))
            ])
        // A task c4 was not running is not blamed on it.
        #expect(
            state.deathsQueried("v", from: c(2), endedChildren: [c(4): ["t", "u"]]) == [
                .answerDeaths(to: c(2), SupervisorNotice(id: "v", deaths: nil))
            ])
        _ = state.childExited(c(4), exit: .signalled(SIGSEGV), running: ["t", "u"], finished: 0, now: t0)
        // The I/O side may still list c4 among the ended: its exit is taken, it is not counted twice.
        #expect(
            state.deathsQueried("t", from: c(2), endedChildren: [c(4): ["t", "u"]]) == [
                .answerDeaths(to: c(2), SupervisorNotice(id: "t", deaths: TaskDeaths(count: 3, reason: .poison)))
            ])
    }

    @Test("a death reported AFTER its exit is taken is counted from the record")
    func deathsQueryAfterExit() {
        var state = pool([a, b])
        _ = state.childExited(c(1), exit: .exited(139), running: ["t"], finished: 0, now: t0)
        #expect(
            state.deathsQueried("t", from: c(2), endedChildren: [:]) == [
                .answerDeaths(to: c(2), SupervisorNotice(id: "t", deaths: TaskDeaths(count: 1, reason: .poison)))
            ])
        // The asker's own death is not counted by itself: it is running the task again.
        _ = state.restartTimerFired(a, now: t0)
        _ = state.childStarted(c(3), now: t0)
        #expect(
            state.deathsQueried("t", from: c(3), endedChildren: [c(3): ["t"]]) == [
                .answerDeaths(to: c(3), SupervisorNotice(id: "t", deaths: TaskDeaths(count: 1, reason: .poison)))
            ])
    }

    @Test("a clean exit blames no task")
    func cleanExitIsNoDeath() {
        var state = pool([a, b])
        _ = state.shutdownRequested(timeout: .seconds(60))
        _ = state.childExited(c(1), exit: .exited(0), running: ["t"], finished: 0, now: t0)
        #expect(
            state.deathsQueried("t", from: c(2), endedChildren: [:]) == [
                .answerDeaths(to: c(2), SupervisorNotice(id: "t", deaths: nil))
            ])
    }

    // MARK: - Reload

    @Test("a reload replaces the children one by one, each predecessor stopping once its successor consumes")
    func reloadOneByOne() {
        var state = pool([a, b])
        #expect(state.reloadRequested() == [.note(.reloading), .notifySystemd(.reloading), .loadConfig])
        #expect(state.reloadRequested() == [])  // queued behind this one
        #expect(state.reloadConfigured([a, b], now: t0) == [.spawn(a, c(3)), .scheduleReloadStepTimeout(step: 1, after: .seconds(30))])
        #expect(state.childStarted(c(3), now: t0) == [.note(.childStarted(a, c(3)))])
        #expect(state.childReady(c(1)) == [])  // the predecessor no longer holds the slot
        #expect(
            state.childReady(c(3)) == [
                .note(.childConsuming(a, c(3))), .signal(c(1), SIGTERM),
                .spawn(b, c(4)), .scheduleReloadStepTimeout(step: 2, after: .seconds(30)),
            ])
        #expect(state.reloadStepTimedOut(1) == [])  // that step is over
        #expect(
            state.childExited(c(1), exit: .exited(0), running: [], finished: 7, now: t0) == [
                .note(.childStopped(a, c(1), .exited(0), running: []))
            ])
        _ = state.childStarted(c(4), now: t0)
        // c4 does not consume within 30 s: c2 stops anyway; the reload ends, and the queued one starts.
        #expect(
            state.reloadStepTimedOut(2) == [
                .note(.reloadStepNotReady(b)), .signal(c(2), SIGTERM),
                .note(.reloaded(children: 2)), .notifySystemd(.ready(consuming: 1, of: 2)),
                .note(.reloading), .notifySystemd(.reloading), .loadConfig,
            ])
        #expect(state.reloadRefused() == [.notifySystemd(.ready(consuming: 1, of: 2))])
    }

    @Test("a reload drops the slots the new config no longer has, and a new child that dies releases its predecessor")
    func reloadShrinks() {
        var state = pool([a, b])
        _ = state.reloadRequested()
        #expect(
            state.reloadConfigured([a], now: t0) == [
                .signal(c(2), SIGTERM), .spawn(a, c(3)), .scheduleReloadStepTimeout(step: 1, after: .seconds(30)),
            ])
        #expect(state.slotCount == 1)
        #expect(
            state.childExited(c(2), exit: .exited(0), running: [], finished: 0, now: t0) == [
                .note(.childStopped(b, c(2), .exited(0), running: []))
            ])
        _ = state.childStarted(c(3), now: t0)
        #expect(
            state.childExited(c(3), exit: .exited(78), running: [], finished: 0, now: t0) == [
                .note(.childRestarting(a, c(3), .crashed, .exited(78), running: [], after: .seconds(1))),
                .scheduleRestart(a, after: .seconds(1)),
                .note(.reloadStepNotReady(a)), .signal(c(1), SIGTERM),
                .note(.reloaded(children: 1)), .notifySystemd(.ready(consuming: 0, of: 1)),
            ])
        #expect(state.restartTimerFired(b, now: t0) == [])  // the slot is gone
    }

    @Test("a reload whose new child cannot be spawned keeps the predecessor")
    func reloadSpawnFails() {
        var state = pool([a])
        _ = state.reloadRequested()
        _ = state.reloadConfigured([a], now: t0)
        #expect(state.spawnFailed(c(2), now: t0) == [.note(.reloaded(children: 1)), .notifySystemd(.ready(consuming: 1, of: 1))])
        #expect(counts(state) == [1, 1])
        #expect(state.childRecycling(c(1), reason: "max-tasks") == [])
        #expect(
            state.childExited(c(1), exit: .exited(0), running: [], finished: 0, now: t0) == [
                .note(.childRecycled(a, c(1), reason: "max-tasks", .exited(0), running: [])), .spawn(a, c(3)),
            ])
    }

    @Test("a shutdown during a reload stops it, predecessors included; a late config is ignored")
    func shutdownDuringReload() {
        var state = pool([a])
        _ = state.reloadRequested()
        #expect(
            state.shutdownRequested(timeout: .seconds(60)) == [
                .note(.shuttingDown(children: 1)), .notifySystemd(.stopping), .signal(c(1), SIGTERM),
                .scheduleShutdownTimeout(after: .seconds(60)),
            ])
        #expect(state.reloadConfigured([a, b], now: t0) == [])
        #expect(state.reloadRefused() == [])
        #expect(state.reloadRequested() == [])

        var replacing = pool([a])
        _ = replacing.reloadRequested()
        _ = replacing.reloadConfigured([a], now: t0)
        _ = replacing.childStarted(c(2), now: t0)
        #expect(
            replacing.shutdownRequested(timeout: .seconds(60)) == [
                .note(.shuttingDown(children: 2)), .notifySystemd(.stopping),
                .signal(c(1), SIGTERM), .signal(c(2), SIGTERM), .scheduleShutdownTimeout(after: .seconds(60)),
            ])
        #expect(replacing.childReady(c(2)) == [.note(.childConsuming(a, c(2)))])  // no reload step left
        #expect(replacing.reloadStepTimedOut(1) == [])
    }

    // MARK: - Pause, resume, pool size

    @Test("a paused queue's children stop warmly and are not restarted; resume starts them again at once")
    func pauseAndResume() {
        var state = pool([a, b])
        #expect(state.pauseRequested("q") == [.note(.queuePaused("q", stopping: 2)), .signal(c(1), SIGTERM), .signal(c(2), SIGTERM)])
        #expect(state.pauseRequested("q") == [])  // already paused
        #expect(state.pauseRequested("nosuch") == [])
        #expect(counts(state) == [0, 0])
        #expect(state.paused == ["q"])
        // Their clean exit is a stop, not a death: no restart, no backoff.
        #expect(
            state.childExited(c(1), exit: .exited(0), running: [], finished: 3, now: t0) == [
                .note(.childStopped(a, c(1), .exited(0), running: []))
            ])
        #expect(state.restartTimerFired(a, now: t0) == [])
        // Resumed while c2 still finishes its tasks: both slots get a child now.
        #expect(state.resumeRequested("q", now: t0) == [.note(.queueResumed("q")), .spawn(a, c(3)), .spawn(b, c(4))])
        #expect(state.resumeRequested("q", now: t0) == [])
        #expect(
            state.childExited(c(2), exit: .exited(0), running: [], finished: 1, now: t0) == [
                .note(.childStopped(b, c(2), .exited(0), running: []))
            ])
        _ = state.childStarted(c(3), now: t0)
        _ = state.childStarted(c(4), now: t0)
        _ = state.childReady(c(3))
        _ = state.childReady(c(4))
        #expect(counts(state) == [2, 2])
    }

    @Test("a child spawned or restarting when its queue is paused is stopped when it starts, or not started")
    func pauseDuringSpawn() {
        var state = pool([a], ready: false)
        _ = state.childExited(c(1), exit: .exited(1), running: [], finished: 0, now: t0)
        #expect(state.pauseRequested("q") == [.note(.queuePaused("q", stopping: 0))])
        #expect(state.restartTimerFired(a, now: t0) == [])  // the pending restart does nothing
        #expect(state.resumeRequested("q", now: t0) == [.note(.queueResumed("q")), .spawn(a, c(2))])
        _ = state.pauseRequested("q")
        #expect(state.childStarted(c(2), now: t0) == [.note(.childStarted(a, c(2))), .signal(c(2), SIGTERM)])
        #expect(counts(state) == [0, 0])
        #expect(state.spawnFailed(c(9), now: t0) == [])
    }

    @Test("a reload keeps a queue paused: its slots get no child; a queue the new config drops is no longer paused")
    func reloadKeepsPause() {
        let other = Key(queue: "r", slot: 1)
        var state = pool([a, other])
        _ = state.pauseRequested("q")
        _ = state.reloadRequested()
        #expect(
            state.reloadConfigured([a, other], now: t0) == [.spawn(other, c(3)), .scheduleReloadStepTimeout(step: 1, after: .seconds(30))])
        _ = state.childStarted(c(3), now: t0)
        #expect(
            state.childReady(c(3)) == [
                .note(.childConsuming(other, c(3))), .signal(c(2), SIGTERM), .note(.reloaded(children: 2)),
                .notifySystemd(.ready(consuming: 1, of: 2)),
            ])
        #expect(state.paused == ["q"])
        _ = state.reloadRequested()
        _ = state.reloadConfigured([other], now: t0)
        #expect(state.paused.isEmpty)
    }

    @Test(
        "pool_grow adds slots that start now; pool_shrink stops the highest-numbered children, keeping one; a reload restores the config's count"
    )
    func resizePool() {
        var state = pool([a, b])
        let (grown, count) = state.resizeRequested("q", by: 2, now: t0)
        #expect(count == 4)
        #expect(
            grown == [
                .note(.poolResized("q", children: 4)), .spawn(Key(queue: "q", slot: 3), c(3)), .spawn(Key(queue: "q", slot: 4), c(4)),
            ])
        _ = state.childStarted(c(3), now: t0)
        _ = state.childStarted(c(4), now: t0)
        let shrunk = state.resizeRequested("q", by: -10, now: t0)
        #expect(shrunk.slots == 1)
        #expect(
            shrunk.actions == [
                .note(.poolResized("q", children: 1)), .signal(c(4), SIGTERM), .signal(c(3), SIGTERM), .signal(c(2), SIGTERM),
            ])
        // A child of a removed slot that exits is a stop.
        #expect(
            state.childExited(c(4), exit: .exited(0), running: [], finished: 0, now: t0) == [
                .note(.childStopped(Key(queue: "q", slot: 4), c(4), .exited(0), running: []))
            ])
        #expect(state.resizeRequested("nosuch", by: 1, now: t0).actions == [])
        // Grown while paused: the slot waits for the resume.
        _ = state.pauseRequested("q")
        #expect(state.resizeRequested("q", by: 1, now: t0).actions == [.note(.poolResized("q", children: 2))])
        _ = state.resumeRequested("q", now: t0)
        #expect(state.slotCount(queue: "q") == 2)
        _ = state.reloadRequested()
        _ = state.reloadConfigured([a, b, Key(queue: "q", slot: 3)], now: t0)
        #expect(state.slotCount(queue: "q") == 3)
    }

    @Test("terminate: a child whose handlers can be cancelled alone is told to, and killed only if the task still runs after the grace")
    func cooperativeTerminate() {
        var state = pool([a, b])
        #expect(
            state.terminateRequested(["t1"], running: [c(1): ["t1", "t2"], c(2): ["t3"]], cancellable: [c(1)], atOnce: false) == [
                .note(.cancelling(a, c(1), tasks: ["t1"])), .cancelTasks(c(1), ["t1"]),
                .scheduleTerminateCheck(c(1), ["t1"], after: .seconds(5)),
            ])
        // The handler ended: nothing more.
        #expect(state.terminateGraceOver(c(1), ["t1"], running: ["t2"]) == [])
        // A handler that ignores its cancellation: its child is killed, blamed on no task.
        _ = state.terminateRequested(["t2"], running: [c(1): ["t2"]], cancellable: [c(1)], atOnce: false)
        #expect(
            state.terminateGraceOver(c(1), ["t2"], running: ["t2"]) == [
                .note(.terminating(a, c(1), tasks: ["t2"])), .signal(c(1), SIGKILL),
            ])
        #expect(state.terminateGraceOver(c(1), ["t2"], running: ["t2"]) == [])  // once
        // Not cancellable (one handler at a time, inline), or signal=SIGKILL: killed at once.
        #expect(
            state.terminateRequested(["t3"], running: [c(2): ["t3"]], cancellable: [], atOnce: false) == [
                .note(.terminating(b, c(2), tasks: ["t3"])), .signal(c(2), SIGKILL),
            ])
        var other = pool([a])
        #expect(
            other.terminateRequested(["t1"], running: [c(1): ["t1"]], cancellable: [c(1)], atOnce: true) == [
                .note(.terminating(a, c(1), tasks: ["t1"])), .signal(c(1), SIGKILL),
            ])
    }
}
