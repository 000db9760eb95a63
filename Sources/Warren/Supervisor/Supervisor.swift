import AMQP
import CWarrenSystem
import Foundation
import Logging
import Synchronization

/// The `run` verb: starts `children` worker processes per queue by re-executing this binary,
/// and keeps them right (DESIGN section 2).
///
/// - A child that exits unexpectedly is replaced, waiting longer each time it keeps dying
///   (1 s doubling to 30 s; reset once it consumes again, or ran a minute). The exit status or signal is logged.
/// - A child that recycles itself (`max_tasks_per_child`, `max_memory`) is replaced at once.
/// - A task running past its hard time limit gets its child killed (SIGKILL).
/// - A task that was running whenever a child died is counted; once it killed
///   ``poisonThreshold`` children, the children dead-letter it (`poison`, or `time-limit` when
///   the kills were the hard limit's) instead of running it again.
/// - SIGTERM or SIGINT: warm shutdown (children finish their running tasks, give back the
///   rest, exit); a second signal, or `shutdown_timeout`, makes them stop at once (their
///   unacknowledged messages go back to the broker). Exit status 0.
/// - SIGHUP: reload. The new config is validated first (a bad one is logged and the old one
///   kept), the topology rebound, then children are replaced one by one, each new one
///   consuming before its predecessor stops, so no work is dropped.
///
/// Children are started from the main thread: the kernel's parent-death signal, which stops
/// children when the supervisor dies (even by SIGKILL), follows the *thread* that spawned them.
@MainActor
final class Supervisor {
    private struct SlotKey: Hashable, CustomStringConvertible {
        var queue: String
        var slot: Int
        var description: String { "\(queue)#\(slot)" }
    }

    private final class Slot {
        var child: ChildProcess?
        var ready = OnceValue<Bool>()
        var isReady = false
        /// The child said it lost its connection and has not said `ready` since.
        var disconnected = false
        var recycling: String?
        var killedAtHardLimit = false
        var startedAt = ContinuousClock.now
        var backoff = Duration.seconds(1)
        /// Tasks finished by the slot's earlier children.
        var tasksBefore = 0
    }

    private var configuration: WarrenConfiguration
    private let configPath: String
    private let registry: TaskRegistry
    private let logger: Logger
    private let executable: String
    private var slots: [SlotKey: Slot] = [:]
    private var deaths: [String: TaskDeaths] = [:]
    private var shuttingDown = false
    private var reloading = false
    private var announcedReady = false
    private var lastStatus = ""
    private let finished = OnceValue<Int32>()
    private let systemd = SystemdNotifier()
    /// What every child did and how the pool fares, served at `metrics.listen`.
    let metrics = WarrenMetrics()
    /// When the supervisor's loop last ran: the watchdog pings systemd only while it is recent.
    private let lastTick = Heartbeat()

    init(configuration: WarrenConfiguration, configPath: String, registry: TaskRegistry, logger: Logger) {
        self.configuration = configuration
        self.configPath = configPath
        self.registry = registry
        self.logger = logger
        // /proc/self/exe is this very binary, however it was started (PATH, symlink, relative).
        executable = "/proc/self/exe"
    }

    /// Declares the topology, starts the children, and runs until a shutdown completes.
    /// - Returns: The exit status (0 after a warm shutdown).
    func run() async throws -> Int32 {
        logger.info("starting", metadata: [
            "broker": "\(configuration.broker)", "tasks": "\(registry.names.count)", "pid": "\(getpid())",
        ])
        try await Topology.declare(configuration: configuration, taskNames: registry.names, logger: logger)
        let server = configuration.metrics.enabled ? MetricsServer(metrics: metrics, logger: logger) : nil
        // Queue depths are read from the broker only for someone who can scrape them.
        let probe = server.map { _ in QueueProbe(metrics: metrics, logger: logger) }
        await server?.start(listen: configuration.metrics.listen)
        defer {
            server?.stop()
            probe?.stop()
        }
        probe?.start(configuration: configuration)
        for queue in configuration.queues {
            for n in 1...queue.children { await launch(SlotKey(queue: queue.name, slot: n)) }
        }
        let stop = ShutdownSignals()
        Task {
            await stop.first()
            self.shutdown()
            await stop.first()
            self.stopNow(reason: "second signal")
        }
        let hangups = ShutdownSignals([SIGHUP])
        Task {
            while await hangups.first() != nil { await self.reload() }
        }
        Task {
            var ticks = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                self.enforceHardLimits()
                self.lastTick.beat()
                ticks += 1
                if ticks % 10 == 0 { self.reportStatus() }
            }
        }
        // Healthy = the supervisor's own loop runs (not "the broker answers": a broker outage
        // must not make systemd restart the service over and over).
        let tick = lastTick
        let watchdog = systemd.startWatchdog { tick.isRecent(within: .seconds(5)) }
        defer { watchdog?.cancel() }
        return await finished.value
    }

    // MARK: - Children

    private var childEnvironment: [String: String] {
        // Only the supervisor speaks to systemd.
        var env = SystemdNotifier.environmentForChildren(ProcessInfo.processInfo.environment)
        env[ChildMain.supervisorPIDVariable] = "\(getpid())"
        return env
    }

    /// What `systemctl status` shows: how many children consume, and tasks done. Also the
    /// children gauges. Called on every child event and every few ticks (for the task count);
    /// systemd hears only of changes.
    private func reportStatus() {
        for queue in configuration.queues {
            let mine = slots.filter { $0.key.queue == queue.name }.values
            metrics.children(queue: queue.name, alive: mine.filter { $0.child != nil }.count, ready: mine.filter(\.isReady).count)
        }
        let ready = slots.values.filter(\.isReady).count
        let tasks = slots.values.reduce(0) { $0 + $1.tasksBefore + ($1.child?.tasks.finished ?? 0) }
        let status = "\(ready)/\(slots.count) children consuming, \(tasks) tasks done"
        // Not before READY=1: systemd needs no running count while starting, and every datagram
        // queued before READY (its socket holds a few) delays the one that matters.
        guard announcedReady, status != lastStatus else { return }
        lastStatus = status
        systemd.status(status)
    }

    /// Starts the child of `key` (into a fresh slot when `replacing`, so the old child's exit
    /// is not taken for this one's).
    @discardableResult
    private func launch(_ key: SlotKey, replacing: Bool = false) async -> Slot? {
        let slot = (replacing ? nil : slots[key]) ?? Slot()
        slots[key] = slot
        let child: ChildProcess
        do {
            let (metrics, queue) = (self.metrics, key.queue)
            child = try await ChildProcess(
                executable: executable, argv0: CommandLine.arguments.first ?? "warren",
                arguments: ["child", "--config", configPath, "--queue", key.queue, "--slot", "\(key.slot)"],
                environment: childEnvironment
            ) { report in
                switch report {
                case .started: metrics.taskStarted(queue: queue)
                case .finished(let task): metrics.taskFinished(queue: queue, task)
                case .deadLettered(let reason): metrics.deadLettered(queue: queue, reason: reason)
                default: break
                }
            }
        } catch {
            logger.error("cannot start a child", metadata: ["child": "\(key)", "error": "\(error)"])
            scheduleRestart(key, slot)
            return nil
        }
        if shuttingDown { child.signal(SIGTERM) }  // the shutdown began while it was being spawned
        slot.child = child
        slot.ready = OnceValue()
        slot.isReady = false
        slot.disconnected = false
        slot.recycling = nil
        slot.killedAtHardLimit = false
        slot.startedAt = .now
        logger.info("child started", metadata: ["child": "\(key)", "child.pid": "\(child.pid)"])
        Task {
            for await report in child.reports { self.handle(report, from: child, key: key, slot: slot) }
            let exit = await child.exitStatus()
            self.exited(child, exit, key: key, slot: slot)
        }
        return slot
    }

    private func handle(_ report: ChildReport, from child: ChildProcess, key: SlotKey, slot: Slot) {
        guard slot.child === child else { return }
        switch report {
        case .ready:
            slot.isReady = true
            slot.ready.resolve(true)
            logger.debug("child consuming", metadata: ["child": "\(key)", "child.pid": "\(child.pid)"])
            if !announcedReady && !shuttingDown && slots.values.allSatisfy(\.isReady) {
                announcedReady = true
                logger.info("ready: every child is consuming", metadata: ["children": "\(slots.count)"])
                systemd.ready(status: "\(slots.count)/\(slots.count) children consuming")
            }
            // Consuming again: a later death is a new problem, not the same crash loop.
            slot.backoff = .seconds(1)
            if slot.disconnected { metrics.brokerReconnected(queue: key.queue) }
            slot.disconnected = false
            reportStatus()
        case .disconnected:
            // Ready means consuming (DESIGN section 9): not while the child reconnects.
            slot.isReady = false
            slot.disconnected = true
            logger.warning("child lost its broker connection; it reconnects by itself", metadata: [
                "child": "\(key)", "child.pid": "\(child.pid)",
            ])
            reportStatus()
        case .started, .finished, .deadLettered:
            break  // kept by the child's TaskTracker and counted in the metrics where they are read
        case .recycling(let reason):
            slot.recycling = reason
        case .deathsQuery(let id):
            Task { await self.answerDeathsQuery(id, from: child) }
        }
    }

    private func exited(_ child: ChildProcess, _ exit: ChildProcess.Exit, key: SlotKey, slot: Slot) {
        let current = slots[key] === slot && slot.child === child
        slot.ready.resolve(false)  // for a reload waiting on a child that never got ready
        let clean = exit == .exited(0)
        let running = child.tasks.running
        slot.tasksBefore += child.tasks.finished
        if !clean, !running.isEmpty {
            let reason = slot.killedAtHardLimit ? DeadLetterReason.timeLimit.rawValue : DeadLetterReason.poison.rawValue
            for id in running.keys {
                deaths[id, default: TaskDeaths(count: 0, reason: reason)].count += 1
                deaths[id]?.reason = reason
            }
        }
        var metadata: Logger.Metadata = ["child": "\(key)", "child.pid": "\(child.pid)", "exit": "\(exit)"]
        if !running.isEmpty { metadata["tasks.running"] = "\(running.keys.sorted().joined(separator: ","))" }
        if !current || shuttingDown {
            logger.info("child stopped", metadata: metadata)
            if current { slot.child = nil }
            if shuttingDown && slots.values.allSatisfy({ $0.child == nil }) { finished.resolve(0) }
            return
        }
        slot.child = nil
        slot.isReady = false
        reportStatus()
        if let reason = slot.recycling, clean {
            metrics.childRecycled(queue: key.queue, reason: reason)
            logger.info("child recycled; starting its replacement", metadata: metadata.merging(["reason": "\(reason)"]) { $1 })
            Task { _ = await self.launch(key) }
            return
        }
        let cause = if slot.killedAtHardLimit { "time-limit" } else if case .signalled = exit { "killed" } else { "crashed" }
        metrics.childRestarted(queue: key.queue, reason: cause)
        logger.error("child died; restarting", metadata: metadata.merging(["restart.in": "\(slot.backoff.secondsText)"]) { $1 })
        scheduleRestart(key, slot)
    }

    private func scheduleRestart(_ key: SlotKey, _ slot: Slot) {
        if ContinuousClock.now - slot.startedAt > .seconds(60) { slot.backoff = .seconds(1) }
        let delay = slot.backoff
        slot.backoff = min(slot.backoff * 2, .seconds(30))
        Task {
            try? await Task.sleep(for: delay)
            guard !self.shuttingDown, self.slots[key] === slot, slot.child == nil else { return }
            await self.launch(key)
        }
    }

    /// Tells `asker`, which got task `id` redelivered, how many children died running it.
    ///
    /// The broker redelivers as soon as a dying child's socket closes, which can be before this
    /// actor has taken that child's exit: a child that has ended is waited for (its reader has
    /// then read every report it wrote), and a child still listed as running the task is
    /// counted with the deaths already recorded. `exited` moves a child from the one to the
    /// other in one step, so none is counted twice.
    private func answerDeathsQuery(_ id: String, from asker: ChildProcess) async {
        for child in slots.values.compactMap(\.child) where child !== asker && cws_child_has_ended(child.pid) == 1 {
            _ = await child.exitStatus()
        }
        var answer = deaths[id]
        for slot in slots.values {
            guard let child = slot.child, child !== asker, child.exited != nil || cws_child_has_ended(child.pid) == 1,
                child.tasks.running.keys.contains(id)
            else { continue }
            let reason = slot.killedAtHardLimit ? DeadLetterReason.timeLimit.rawValue : DeadLetterReason.poison.rawValue
            answer = TaskDeaths(count: (answer?.count ?? 0) + 1, reason: reason)
        }
        asker.send(SupervisorNotice(id: id, deaths: answer))
    }

    private func enforceHardLimits() {
        let now = Date().timeIntervalSince1970
        for (key, slot) in slots {
            guard let child = slot.child, !slot.killedAtHardLimit else { continue }
            let overdue = child.tasks.running.filter { ($0.value ?? .infinity) < now }
            guard !overdue.isEmpty else { continue }
            logger.error("hard time limit passed: killing the child", metadata: [
                "child": "\(key)", "child.pid": "\(child.pid)", "task.id": "\(overdue.keys.sorted().joined(separator: ","))",
            ])
            slot.killedAtHardLimit = true
            child.signal(SIGKILL)
        }
    }

    // MARK: - Shutdown

    private func shutdown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        let running = slots.values.compactMap(\.child)
        logger.info("shutting down warmly (a second signal stops at once)", metadata: ["children": "\(running.count)"])
        systemd.stopping(status: "finishing the tasks in flight")
        if running.isEmpty { finished.resolve(0) }
        for child in running { child.signal(SIGTERM) }
        let timeout = configuration.shutdownTimeout
        Task {
            try? await Task.sleep(for: timeout)
            self.stopNow(reason: "shutdown_timeout of \(timeout.humanReadable) passed")
        }
    }

    /// Makes children stop without finishing (their unacknowledged messages go back), then
    /// kills what is left after 10 s.
    private func stopNow(reason: String) {
        guard finished.current == nil else { return }
        let running = slots.values.compactMap(\.child)
        logger.warning("stopping children now; unacknowledged tasks go back to their queues", metadata: ["reason": "\(reason)"])
        for child in running { child.signal(SIGTERM) }  // their second signal
        Task {
            try? await Task.sleep(for: .seconds(10))
            for child in running where child.exited == nil { child.signal(SIGKILL) }
        }
    }

    // MARK: - Reload

    private func reload() async {
        guard !shuttingDown, !reloading else { return }
        reloading = true
        defer { reloading = false }
        logger.info("reloading the config", metadata: ["config": "\(configPath)"])
        systemd.reloading(status: "reloading \(configPath)")
        defer { systemd.ready(status: "\(slots.values.filter(\.isReady).count)/\(slots.count) children consuming") }
        let new: WarrenConfiguration
        do {
            new = try ConfigLoader.load(path: configPath, environment: ProcessInfo.processInfo.environment)
        } catch {
            logger.error("reload refused: the new config is invalid; still running on the old one", metadata: ["error": "\(error)"])
            return
        }
        do {
            try await Topology.declare(configuration: new, taskNames: registry.names, logger: logger)
        } catch {
            logger.error("reload refused: cannot declare the new topology; still running on the old one", metadata: ["error": "\(error)"])
            return
        }
        configuration = new
        let wanted = Set(new.queues.flatMap { q in (1...q.children).map { SlotKey(queue: q.name, slot: $0) } })
        // Children of queues or slots no longer configured stop.
        for (key, slot) in slots where !wanted.contains(key) {
            slots[key] = nil
            slot.child?.signal(SIGTERM)
        }
        // Every wanted child is (re)started one by one: the new one consumes before the old one stops.
        for queue in new.queues {
            for n in 1...queue.children {
                let key = SlotKey(queue: queue.name, slot: n)
                let old = slots[key]?.child
                guard let fresh = await launch(key, replacing: true) else { continue }
                let signal = fresh.ready
                let ready = await withTaskGroup(of: Bool.self) { group in
                    group.addTask { await signal.value }
                    group.addTask {
                        try? await Task.sleep(for: .seconds(30))
                        return false
                    }
                    let first = await group.next() ?? false
                    group.cancelAll()
                    return first
                }
                if !ready { logger.warning("a reloaded child is not consuming yet; replacing its predecessor anyway", metadata: ["child": "\(key)"]) }
                old?.signal(SIGTERM)
            }
        }
        logger.info("reloaded", metadata: ["children": "\(slots.count)"])
    }
}

/// The last time a loop ran, readable from any thread.
final class Heartbeat: Sendable {
    private let last = Mutex(ContinuousClock.now)
    func beat() { last.withLock { $0 = .now } }
    func isRecent(within limit: Duration) -> Bool { last.withLock { ContinuousClock.now - $0 < limit } }
}
