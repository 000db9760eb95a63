import WarrenCore
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif

/// The supervisor's decisions, with no I/O: events in, actions out (postgres-nio's
/// `PoolStateMachine` shape; STYLE.md section 2).
///
/// ``Supervisor`` owns the processes, pipes, signals, clocks and timers. It calls one
/// `mutating func` per thing that happened (a child started, reported, exited; a signal; a
/// timer it was asked for fired) and performs the ``Action``s returned, in order. Time comes
/// in with the events; the machine never reads a clock or sleeps, so its tests can play the
/// orderings that are hard to provoke with real processes and a broker.
///
/// The rules (README, "Processes: the supervisor and its children"):
/// - A child that dies is restarted after 1 s, then 2 s, 4 s, ... up to 30 s; the delay goes
///   back to 1 s once a child consumes again, or when the child that died had run a minute.
/// - A child that recycled itself (a clean exit after a `recycling` report) is replaced at once.
/// - A child running a task past its hard deadline is killed with SIGKILL, once.
/// - The tasks running in a child that died are counted; the count answers the children's
///   deaths queries (``deathsQueried(_:from:endedChildren:)``).
/// - The first shutdown signal sends SIGTERM to every child and waits for them all; a second
///   one, or the shutdown timeout, sends a second SIGTERM, then SIGKILL 10 s later.
/// - A reload replaces the children one by one, each new one consuming (or 30 s) before its
///   predecessor gets SIGTERM.
/// - A paused queue (`cancel_consumer`, `queue pause`) keeps no child: its children stop warmly
///   and none starts until it is resumed; a reload keeps it paused. A pool grown or shrunk at
///   run time (`pool_grow`, `pool_shrink`) goes back to the config's `children` on a reload.
struct SupervisorState: Sendable {
    /// Restart delays: 1 s after a child's first failure in a row (or after it consumed again),
    /// doubling up to 30 s. No jitter: a restart costs the broker nothing until the child connects,
    /// and the children's reconnections have jitter of their own.
    static let restartBackoff = RetryPolicy.Backoff(initial: .seconds(1), multiplier: 2, max: .seconds(30), jitter: 0)
    /// A child that ran longer than this before it died restarts after the first delay.
    static let backoffResetAfter = Duration.seconds(60)
    /// From "stop now" to SIGKILL.
    static let killGrace = Duration.seconds(10)
    /// How long a handler cancelled by a terminating revoke may take to end before its child is killed.
    static let terminateGrace = hardTimeLimitGrace
    /// How long a reload waits for a new child to consume before it stops the predecessor anyway.
    static let reloadStepTimeout = Duration.seconds(30)

    private struct Slot {
        /// The slot's child: counted in the status, replaced when it dies.
        var child: ChildID?
        /// A child being spawned for the slot, not started yet.
        var spawning: ChildID?
        /// Deaths in a row without consuming in between: they set the next restart delay.
        var failures = 0
        /// When the slot's last child started (or the slot was made).
        var startedAt: ContinuousClock.Instant
    }

    /// A child process that started and whose exit has not been taken yet.
    private struct Child {
        let key: SlotKey
        var isReady = false
        /// It said it lost its connection and has not said `ready` since.
        var disconnected = false
        var recycling: String?
        var killedAtHardLimit = false
        /// Killed for `revoke(terminate=True)`: its death is no task's fault.
        var terminated = false
    }

    private enum Phase: Equatable {
        case running
        case shuttingDown(timeout: Duration, stoppingNow: Bool)
        case finished
    }

    private enum Reload {
        /// The I/O side reads the new config.
        case loading
        /// Replacing the children of `remaining` one by one; `step` is the one under way.
        case replacing(remaining: [SlotKey], step: ReloadStep?)
    }

    private struct ReloadStep {
        var number: Int
        var key: SlotKey
        var fresh: ChildID
        var predecessor: ChildID?
    }

    private var slots: [SlotKey: Slot] = [:]
    /// Started, not exited: the slots' children, and predecessors a reload is replacing.
    private var children: [ChildID: Child] = [:]
    /// Spawns asked for and not reported yet.
    private var spawning: [ChildID: SlotKey] = [:]
    private var deaths: [String: TaskDeaths] = [:]
    private var phase = Phase.running
    private var reload: Reload?
    /// A reload was asked for during one: another follows it.
    private var reloadAgain = false
    private var reloadSteps = 0
    private var lastChildID = 0
    private(set) var announcedReady = false
    /// Tasks finished by children whose exit was taken (the live ones' count is the I/O side's).
    private(set) var tasksFinishedByExitedChildren = 0
    /// Queues paused by `cancel_consumer` or `queue pause`: their slots keep no child.
    private(set) var paused: Set<String> = []

    init() {}

    // MARK: - Queries (for the status line and the gauges)

    /// How many slots the pool has.
    var slotCount: Int { slots.count }

    /// How many slots have a child that consumes.
    var readyCount: Int { slots.values.filter { $0.child.map { children[$0]?.isReady == true } ?? false }.count }

    /// Children of `queue`'s slots, and how many of them consume.
    func childCount(queue: String) -> (alive: Int, ready: Int) {
        let mine = slots.filter { $0.key.queue == queue }.values.compactMap(\.child)
        return (mine.count, mine.filter { children[$0]?.isReady == true }.count)
    }

    /// Whether the child started and its exit was not taken yet.
    func isLive(_ id: ChildID) -> Bool { children[id] != nil }

    /// The slot of a live child.
    func key(of id: ChildID) -> SlotKey? { children[id]?.key }

    private var isShuttingDown: Bool { phase != .running }

    private func isCurrent(_ id: ChildID) -> Bool {
        guard let key = children[id]?.key else { return false }
        return slots[key]?.child == id
    }

    // MARK: - Starting children

    /// The supervisor starts: one child per slot.
    mutating func start(_ keys: [SlotKey], now: ContinuousClock.Instant) -> [Action] {
        keys.map { key in
            slots[key] = Slot(startedAt: now)
            return spawn(key)
        }
    }

    /// The child `id` asked for by ``Action/spawn(_:_:)`` runs.
    mutating func childStarted(_ id: ChildID, now: ContinuousClock.Instant) -> [Action] {
        guard let key = spawning.removeValue(forKey: id) else { return [] }
        children[id] = Child(key: key)
        var actions: [Action] = [.note(.childStarted(key, id))]
        if slots[key]?.spawning == id, paused.contains(key.queue) {
            slots[key]?.spawning = nil
            actions.append(.signal(id, SIGTERM))  // its queue was paused while it was spawned
        } else if slots[key]?.spawning == id {
            slots[key]?.spawning = nil
            slots[key]?.child = id
            slots[key]?.startedAt = now
            if isShuttingDown { actions.append(.signal(id, SIGTERM)) }  // the shutdown began while it was spawned
        } else {
            actions.append(.signal(id, SIGTERM))  // a reload removed its slot meanwhile
        }
        return actions
    }

    /// The child `id` could not be started.
    mutating func spawnFailed(_ id: ChildID, now: ContinuousClock.Instant) -> [Action] {
        guard let key = spawning.removeValue(forKey: id) else { return [] }
        var actions: [Action] = []
        if slots[key]?.spawning == id {
            slots[key]?.spawning = nil
            if case .replacing(let remaining, let step?) = reload, step.fresh == id {
                // Its predecessor keeps the slot (if it still runs): better the old config than none.
                if let old = step.predecessor, children[old] != nil { slots[key]?.child = old }
                reload = .replacing(remaining: remaining, step: nil)
                actions += nextReloadStep()
            }
            if !isShuttingDown, !paused.contains(key.queue), slots[key]?.child == nil {
                let delay = nextRestartDelay(key, now: now)
                actions.append(.scheduleRestart(key, after: delay))
            }
        }
        return actions + finishIfDone()
    }

    /// A restart asked for by ``Action/scheduleRestart(_:after:)`` is due.
    mutating func restartTimerFired(_ key: SlotKey, now: ContinuousClock.Instant) -> [Action] {
        guard !isShuttingDown, !paused.contains(key.queue), let slot = slots[key], slot.child == nil, slot.spawning == nil
        else { return [] }
        return [spawn(key)]
    }

    private mutating func spawn(_ key: SlotKey) -> Action {
        lastChildID += 1
        let id = ChildID(lastChildID)
        spawning[id] = key
        slots[key]?.spawning = id
        return .spawn(key, id)
    }

    /// The restart delay for `key`'s slot now, doubling the next one.
    private mutating func nextRestartDelay(_ key: SlotKey, now: ContinuousClock.Instant) -> Duration {
        guard var slot = slots[key] else { return Self.restartBackoff.initial }
        if now - slot.startedAt > Self.backoffResetAfter { slot.failures = 0 }
        slot.failures += 1
        slots[key] = slot
        return Self.restartBackoff.delay(afterFailures: slot.failures, random: { 0.5 })
    }

    // MARK: - Reports

    /// The child consumes (first, or again after a reconnection).
    mutating func childReady(_ id: ChildID) -> [Action] {
        guard isCurrent(id), var child = children[id] else { return [] }
        var actions: [Action] = [.note(.childConsuming(child.key, id))]
        if child.disconnected { actions.append(.note(.childReconnected(child.key, id))) }
        child.isReady = true
        child.disconnected = false
        children[id] = child
        // Consuming again: a later death is a new problem, not the same crash loop.
        slots[child.key]?.failures = 0
        if !announcedReady, !isShuttingDown, readyCount == slots.count {
            announcedReady = true
            actions.append(.note(.everyChildReady(children: slots.count)))
            actions.append(.notifySystemd(.ready(consuming: slots.count, of: slots.count)))
        }
        if case .replacing(_, let step?) = reload, step.fresh == id {
            actions += finishReloadStep(ready: true)
        }
        return actions
    }

    /// The child lost its broker connection; it reconnects by itself.
    mutating func childDisconnected(_ id: ChildID) -> [Action] {
        guard isCurrent(id), let key = children[id]?.key else { return [] }
        // Ready means consuming: not while it reconnects.
        children[id]?.isReady = false
        children[id]?.disconnected = true
        return [.note(.childDisconnected(key, id))]
    }

    /// The child stops taking tasks to be replaced, for `reason` (`max-tasks`, `max-memory`).
    mutating func childRecycling(_ id: ChildID, reason: String) -> [Action] {
        guard isCurrent(id) else { return [] }
        children[id]?.recycling = reason
        return []
    }

    /// A child that got task `taskID` redelivered asks how many children died running it.
    ///
    /// The broker redelivers as soon as a dying child's socket closes, which can be before
    /// that child's exit is taken here. So the I/O side waits for every other child that has
    /// ended (its reports are then all read) and passes the tasks each was running in
    /// `endedChildren`: a child still live here is counted with the deaths already recorded;
    /// one whose exit was taken is in those deaths already and is not counted twice.
    mutating func deathsQueried(_ taskID: String, from asker: ChildID, endedChildren: [ChildID: Set<String>]) -> [Action] {
        guard children[asker] != nil else { return [] }  // it exited meanwhile: nobody to answer
        var answer = deaths[taskID]
        for (id, running) in endedChildren.sorted(by: { $0.key < $1.key }) where id != asker && running.contains(taskID) {
            guard let child = children[id], !child.terminated else { continue }  // killed for a revoke: nobody's fault
            answer = TaskDeaths(count: (answer?.count ?? 0) + 1, reason: Self.deathReason(child))
        }
        return [.answerDeaths(to: asker, SupervisorNotice(id: taskID, deaths: answer))]
    }

    private static func deathReason(_ child: Child) -> DeadLetterReason {
        child.killedAtHardLimit ? .timeLimit : .poison
    }

    // MARK: - Exits and limits

    /// The child ended (its pipe closed and the process was reaped). `running` are the tasks
    /// it had started and not finished, `finished` how many it finished.
    mutating func childExited(
        _ id: ChildID, exit: ChildProcess.Exit, running: Set<String>, finished: Int, now: ContinuousClock.Instant
    ) -> [Action] {
        guard let child = children.removeValue(forKey: id) else { return [] }
        let key = child.key
        tasksFinishedByExitedChildren += finished
        let clean = exit == .exited(0)
        if !clean && !child.terminated {
            let reason = Self.deathReason(child)
            for task in running {
                deaths[task, default: TaskDeaths(count: 0, reason: reason)].count += 1
                deaths[task]?.reason = reason
            }
        }
        let runningList = running.sorted()
        let current = slots[key]?.child == id
        if current { slots[key]?.child = nil }
        var actions: [Action] = []
        if !current || isShuttingDown {
            actions.append(.note(.childStopped(key, id, exit, running: runningList)))
        } else if child.terminated {
            // Its revoked task comes back to a child that discards it; the others run again.
            actions.append(.note(.childTerminated(key, id, exit, running: runningList)))
            actions.append(spawn(key))
        } else if let reason = child.recycling, clean {
            actions.append(.note(.childRecycled(key, id, reason: reason, exit, running: runningList)))
            actions.append(spawn(key))
        } else {
            let cause: RestartCause = if child.killedAtHardLimit { .timeLimit } else if case .signalled = exit { .killed } else { .crashed }
            let delay = nextRestartDelay(key, now: now)
            actions.append(.note(.childRestarting(key, id, cause, exit, running: runningList, after: delay)))
            actions.append(.scheduleRestart(key, after: delay))
        }
        if case .replacing(_, let step?) = reload, step.fresh == id {
            actions += finishReloadStep(ready: false)  // it will not consume
        }
        return actions + finishIfDone()
    }

    /// The periodic look at the running tasks: `running` holds each live child's tasks with
    /// their hard deadline (seconds since 1970, as `wallClock`).
    mutating func hardLimitTick(wallClock: Double, running: [ChildID: [String: Double?]]) -> [Action] {
        var actions: [Action] = []
        for (id, tasks) in running.sorted(by: { $0.key < $1.key }) {
            guard let child = children[id], !child.killedAtHardLimit else { continue }
            let overdue = tasks.filter { ($0.value ?? .infinity) < wallClock }.keys.sorted()
            guard !overdue.isEmpty else { continue }
            children[id]?.killedAtHardLimit = true
            actions.append(.note(.hardLimitKill(child.key, id, tasks: overdue)))
            actions.append(.signal(id, SIGKILL))
        }
        return actions
    }

    /// `revoke(terminate=True)` of `taskIDs`. A child in `cancellable` (its handlers run in
    /// tasks of their own) is told to cancel them (``Action/cancelTasks(_:_:)``) and is killed if
    /// they still run after ``terminateGrace``; any other child running one of them (and every
    /// one when `atOnce`, Celery's `signal=SIGKILL`) is killed at once. The broker gives a
    /// killed child's deliveries back; the revoked ones are discarded (the children know the ids
    /// already), the others run again. The death counts against no task, and the slot starts
    /// again at once.
    ///
    /// - Parameter running: Each live child's running task ids.
    mutating func terminateRequested(
        _ taskIDs: Set<String>, running: [ChildID: Set<String>], cancellable: Set<ChildID> = [], atOnce: Bool = true
    ) -> [Action] {
        guard phase == .running || isShuttingDown else { return [] }
        var actions: [Action] = []
        for (id, tasks) in running.sorted(by: { $0.key < $1.key }) {
            guard let child = children[id], !child.terminated, !child.killedAtHardLimit else { continue }
            let hit = tasks.intersection(taskIDs).sorted()
            guard !hit.isEmpty else { continue }
            if !atOnce && cancellable.contains(id) {
                actions.append(.note(.cancelling(child.key, id, tasks: hit)))
                actions.append(.cancelTasks(id, hit))
                actions.append(.scheduleTerminateCheck(id, hit, after: Self.terminateGrace))
                continue
            }
            actions += kill(id, for: hit)
        }
        return actions
    }

    /// The grace asked for by ``Action/scheduleTerminateCheck(_:_:after:)`` is over: the child
    /// is killed if it still runs one of `taskIDs` (its handler ignored the cancellation).
    /// - Parameter running: The child's running task ids now.
    mutating func terminateGraceOver(_ id: ChildID, _ taskIDs: [String], running: Set<String>) -> [Action] {
        guard let child = children[id], !child.terminated, !child.killedAtHardLimit else { return [] }
        let left = taskIDs.filter(running.contains)
        return left.isEmpty ? [] : kill(id, for: left)
    }

    private mutating func kill(_ id: ChildID, for tasks: [String]) -> [Action] {
        guard let key = children[id]?.key else { return [] }
        children[id]?.terminated = true
        return [.note(.terminating(key, id, tasks: tasks)), .signal(id, SIGKILL)]
    }

    // MARK: - Shutdown

    /// SIGTERM or SIGINT. The first starts a warm shutdown that ends after `timeout`; the
    /// next makes the children stop at once.
    mutating func shutdownRequested(timeout: Duration) -> [Action] {
        guard phase == .running else { return stopNow(.secondSignal) }
        phase = .shuttingDown(timeout: timeout, stoppingNow: false)
        reload = nil
        reloadAgain = false
        var actions: [Action] = [.note(.shuttingDown(children: children.count)), .notifySystemd(.stopping)]
        actions += children.keys.sorted().map { .signal($0, SIGTERM) }
        actions.append(.scheduleShutdownTimeout(after: timeout))
        return actions + finishIfDone()
    }

    /// The shutdown timeout asked for by ``Action/scheduleShutdownTimeout(after:)`` passed.
    mutating func shutdownTimeoutPassed() -> [Action] {
        guard case .shuttingDown(let timeout, _) = phase else { return [] }
        return stopNow(.shutdownTimeout(timeout))
    }

    /// The grace asked for by ``Action/scheduleKill(after:)`` passed: kill what still runs.
    mutating func killTimerFired() -> [Action] {
        guard case .shuttingDown = phase else { return [] }
        return children.keys.sorted().map { .signal($0, SIGKILL) }
    }

    /// Children stop without finishing (their second SIGTERM: unacknowledged messages go back),
    /// and are killed 10 s later.
    private mutating func stopNow(_ reason: StopReason) -> [Action] {
        guard case .shuttingDown(let timeout, false) = phase else { return [] }
        phase = .shuttingDown(timeout: timeout, stoppingNow: true)
        return [.note(.stoppingNow(reason))] + children.keys.sorted().map { .signal($0, SIGTERM) }
            + [.scheduleKill(after: Self.killGrace)]
    }

    private mutating func finishIfDone() -> [Action] {
        guard case .shuttingDown = phase, children.isEmpty, spawning.isEmpty else { return [] }
        phase = .finished
        return [.finish(0)]
    }

    // MARK: - Reload

    /// SIGHUP: read the config again (a reload under way is followed by another).
    mutating func reloadRequested() -> [Action] {
        guard !isShuttingDown else { return [] }
        guard reload == nil else {
            reloadAgain = true
            return []
        }
        reload = .loading
        return [.note(.reloading), .notifySystemd(.reloading), .loadConfig]
    }

    /// The new config was refused (invalid, or its topology could not be declared): the old
    /// one keeps running.
    mutating func reloadRefused() -> [Action] {
        guard case .loading = reload else { return [] }
        reload = nil
        return [.notifySystemd(.ready(consuming: readyCount, of: slots.count))] + reloadIfAskedAgain()
    }

    /// The new config was accepted: it wants these slots, in this order. Slots it no longer
    /// wants stop; then every wanted slot gets a new child, one by one.
    mutating func reloadConfigured(_ keys: [SlotKey], now: ContinuousClock.Instant) -> [Action] {
        guard case .loading = reload, !isShuttingDown else { return [] }
        let wanted = Set(keys)
        var actions: [Action] = []
        for key in slots.keys.sorted() where !wanted.contains(key) {
            // A spawn under way for it is stopped when it starts (its slot is gone).
            if let child = slots.removeValue(forKey: key)?.child { actions.append(.signal(child, SIGTERM)) }
        }
        for key in keys {
            slots[key, default: Slot(startedAt: now)].failures = 0
        }
        // A queue the new config dropped is no longer paused (were it added back, it would run).
        paused = paused.filter { queue in keys.contains { $0.queue == queue } }
        reload = .replacing(remaining: keys, step: nil)
        return actions + nextReloadStep()
    }

    /// The wait asked for by ``Action/scheduleReloadStepTimeout(step:after:)`` is over.
    mutating func reloadStepTimedOut(_ step: Int) -> [Action] {
        guard case .replacing(_, let current?) = reload, current.number == step else { return [] }
        return finishReloadStep(ready: false)
    }

    private mutating func nextReloadStep() -> [Action] {
        guard case .replacing(var remaining, nil) = reload else { return [] }
        while !remaining.isEmpty {
            let key = remaining.removeFirst()
            // A child being spawned for it already reads the new config; a paused queue has none.
            guard let slot = slots[key], slot.spawning == nil, !paused.contains(key.queue) else { continue }
            reloadSteps += 1
            let predecessor = slot.child
            slots[key]?.child = nil  // it finishes its tasks once the new one consumes
            let spawn = spawn(key)
            guard case .spawn(_, let fresh) = spawn else { continue }
            reload = .replacing(
                remaining: remaining, step: ReloadStep(number: reloadSteps, key: key, fresh: fresh, predecessor: predecessor))
            return [spawn, .scheduleReloadStepTimeout(step: reloadSteps, after: Self.reloadStepTimeout)]
        }
        reload = nil
        return [.note(.reloaded(children: slots.count)), .notifySystemd(.ready(consuming: readyCount, of: slots.count))]
            + reloadIfAskedAgain()
    }

    /// The new child of the current step consumes (`ready`), or will not soon: its
    /// predecessor gets SIGTERM and the next slot's turn comes.
    private mutating func finishReloadStep(ready: Bool) -> [Action] {
        guard case .replacing(let remaining, let step?) = reload else { return [] }
        var actions: [Action] = []
        if !ready { actions.append(.note(.reloadStepNotReady(step.key))) }
        if let old = step.predecessor, children[old] != nil { actions.append(.signal(old, SIGTERM)) }
        reload = .replacing(remaining: remaining, step: nil)
        return actions + nextReloadStep()
    }

    private mutating func reloadIfAskedAgain() -> [Action] {
        guard reloadAgain else { return [] }
        reloadAgain = false
        return reloadRequested()
    }
}

// MARK: - Pause, resume and the pool's size at run time

extension SupervisorState {
    /// How many slots `queue` has now (the config's `children`, unless grown or shrunk since).
    func slotCount(queue: String) -> Int { slots.keys.filter { $0.queue == queue }.count }

    /// `cancel_consumer` or `queue pause`: `queue`'s children stop warmly (they finish their
    /// running tasks; the prefetched ones go back to the queue) and none starts until
    /// ``resumeRequested(_:now:)``. An unknown or already paused queue: nothing to do.
    mutating func pauseRequested(_ queue: String) -> [Action] {
        guard phase == .running, !paused.contains(queue), slots.keys.contains(where: { $0.queue == queue }) else { return [] }
        paused.insert(queue)
        var actions: [Action] = []
        for key in slots.keys.sorted() where key.queue == queue {
            // Out of its slot: its exit is a stop, not a death (a spawn under way is stopped when it starts).
            if let child = slots[key]?.child {
                slots[key]?.child = nil
                actions.append(.signal(child, SIGTERM))
            }
        }
        return [.note(.queuePaused(queue, stopping: actions.count))] + actions
    }

    /// `add_consumer` or `queue resume`: `queue`'s slots get children again, at once (children
    /// still finishing their tasks from the pause are not waited for).
    mutating func resumeRequested(_ queue: String, now: ContinuousClock.Instant) -> [Action] {
        guard paused.remove(queue) != nil else { return [] }
        var actions: [Action] = [.note(.queueResumed(queue))]
        guard phase == .running else { return actions }
        for key in slots.keys.sorted() where key.queue == queue {
            guard let slot = slots[key], slot.child == nil, slot.spawning == nil else { continue }
            slots[key]?.failures = 0
            slots[key]?.startedAt = now
            actions.append(spawn(key))
        }
        return actions
    }

    /// `pool_grow` / `pool_shrink`: `queue` gets `delta` more (or fewer) child slots, keeping at
    /// least one; the new ones start now (unless paused), the highest-numbered go first and
    /// their children stop warmly. A reload goes back to the config's `children`.
    /// - Returns: The actions, and the number of slots the queue has after.
    mutating func resizeRequested(_ queue: String, by delta: Int, now: ContinuousClock.Instant) -> (actions: [Action], slots: Int) {
        let keys = slots.keys.filter { $0.queue == queue }.sorted()
        guard phase == .running, reload == nil, !keys.isEmpty, delta != 0 else { return ([], keys.count) }
        var actions: [Action] = []
        if delta > 0 {
            let top = keys.last?.slot ?? 0
            for number in (top + 1)...(top + delta) {
                let key = SlotKey(queue: queue, slot: number)
                slots[key] = Slot(startedAt: now)
                if !paused.contains(queue) { actions.append(spawn(key)) }
            }
        } else {
            for key in keys.reversed().prefix(min(-delta, keys.count - 1)) {
                // A spawn under way for it is stopped when it starts (its slot is gone).
                if let child = slots.removeValue(forKey: key)?.child { actions.append(.signal(child, SIGTERM)) }
            }
        }
        let count = slotCount(queue: queue)
        return ([.note(.poolResized(queue, children: count))] + actions, count)
    }
}
