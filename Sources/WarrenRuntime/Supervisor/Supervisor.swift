import AMQP
import CWarrenSystem
import Foundation
import Logging
import Synchronization
import WarrenCore

/// The `run` verb: starts `children` worker processes per queue by re-executing this binary,
/// and keeps them right (docs/architecture.md, "Processes").
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
/// Every decision (what to start, signal, count, answer, and when) is ``SupervisorState``'s:
/// this class owns the processes, pipes, signals and timers, feeds it what happens and performs
/// its actions.
///
/// Children are started from the main thread: the kernel's parent-death signal, which stops
/// children when the supervisor dies (even by SIGKILL), follows the *thread* that spawned them.
@MainActor
package final class Supervisor {
    private typealias SlotKey = SupervisorState.SlotKey
    private typealias ChildID = SupervisorState.ChildID

    /// The config in force, and the copy its children read (never the file, which may have
    /// changed since: see ``ConfigSnapshot``).
    private var snapshot: ConfigSnapshot
    private var configuration: WarrenConfiguration { snapshot.configuration }
    private var configPath: String { snapshot.path }
    private let registry: TaskRegistry
    private let logger: Logger
    private let executable: String
    /// Every decision: this class only feeds it events and performs its actions.
    private var state = SupervisorState()
    /// The processes of the children `state` knows as started (until their exit is taken).
    private var children: [ChildID: ChildProcess] = [:]
    /// The queue of each child in ``children``.
    private var childQueues: [ChildID: String] = [:]
    private var lastStatus = ""
    private let finished = OnceValue<Int32>()
    private let systemd = SystemdNotifier()
    /// What every child did and how the pool fares, served at `metrics.listen`.
    let metrics = WarrenMetrics()
    /// When the supervisor's loop last ran: the watchdog pings systemd only while it is recent.
    private let lastTick = Heartbeat()
    /// The periodic scheduler, while the config has schedules and no shutdown began.
    private var scheduler: Scheduler?
    /// The Celery node (remote control and worker events), while `control.enabled`.
    private var controlNode: ControlNode?
    /// Task ids revoked on this node; every child is told, and every child that starts.
    private var revoked = RevokedTasks()
    /// Limits set by `time_limit` per task name, told to every child and every child that starts.
    private var timeLimits: [String: TimeLimitNotice] = [:]
    /// Whether the children send task events (`events`, then `enable_events`/`disable_events`).
    private lazy var taskEvents = configuration.events
    private let startedAt = ContinuousClock.now

    package init(snapshot: ConfigSnapshot, registry: TaskRegistry, logger: Logger) {
        self.snapshot = snapshot
        self.registry = registry
        self.logger = logger
        // /proc/self/exe is this very binary, however it was started (PATH, symlink, relative).
        executable = "/proc/self/exe"
    }

    /// Declares the topology, starts the children, and runs until a shutdown completes.
    /// - Returns: The exit status (0 after a warm shutdown).
    package func run() async throws -> Int32 {
        logger.info(
            "starting",
            metadata: [
                "broker": "\(configuration.broker)", "tasks": "\(registry.names.count)", "pid": "\(getpid())",
            ])
        for warning in configuration.warnings { logger.warning("config: \(warning)") }
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
        startScheduler()
        startControlNode()
        let stop = ShutdownSignals()
        let hangups = ShutdownSignals([SIGHUP])
        perform(state.start(Self.slotKeys(configuration), now: .now))
        Task {
            // The first signal starts a warm shutdown, the second stops at once.
            while await stop.first() != nil { self.beginShutdown() }
        }
        Task {
            while await hangups.first() != nil { self.perform(self.state.reloadRequested()) }
        }
        Task {
            var ticks = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                let running = self.children.mapValues(\.tasks.running)
                self.perform(self.state.hardLimitTick(wallClock: Date().timeIntervalSince1970, running: running), status: false)
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
        let status = await finished.value
        await stoppingScheduler?.value
        await scheduler?.stop()
        await controlNode?.stop()  // worker-offline
        return status
    }

    /// A shutdown signal (or `shutdown` by remote control): the first starts a warm shutdown,
    /// the next stops at once.
    private func beginShutdown() {
        // The token goes to another supervisor now, not after the children finished.
        shuttingDown = true
        stopScheduler()
        perform(state.shutdownRequested(timeout: configuration.shutdownTimeout))
    }

    // MARK: - Schedules

    /// The stop of the previous scheduler, under way.
    private var stoppingScheduler: Task<Void, Never>?
    /// A shutdown began: no scheduler starts again, even on a reload.
    private var shuttingDown = false

    /// Starts the scheduler of the config in force, if it has schedules (after the previous one stopped).
    private func startScheduler() {
        guard !configuration.schedules.isEmpty, !shuttingDown else { return }
        let scheduler = Scheduler(configuration: configuration, node: Scheduler.defaultNode, metrics: metrics, logger: logger)
        self.scheduler = scheduler
        let previous = stoppingScheduler
        Task {
            await previous?.value
            guard self.scheduler === scheduler else { return }  // stopped or replaced meanwhile
            scheduler.start()
        }
    }

    /// Stops the scheduler, if one runs: its connection closes and another supervisor leads.
    private func stopScheduler() {
        guard let scheduler else { return }
        self.scheduler = nil
        let previous = stoppingScheduler
        stoppingScheduler = Task {
            await previous?.value
            await scheduler.stop()
        }
    }

    // MARK: - Celery node

    /// Starts answering remote control and sending worker heartbeats, if `control.enabled`.
    /// The node lives as long as the supervisor: a reload does not change its name or methods.
    private func startControlNode() {
        guard configuration.control.enabled else { return }
        let node = ControlNode(
            configuration: configuration, node: configuration.resolvedNodeName(hostname: HostName.current), logger: logger,
            facts: { await self.nodeFacts() }, command: { await self.perform($0) })
        controlNode = node
        node.start()
    }

    /// Does what a remote-control request asks (``ControlState/Command``), with a log line.
    private func perform(_ command: ControlState.Command) {
        switch command {
        case .revoke(let ids, let terminate, let atOnce):
            logger.info("tasks revoked", metadata: ["task.id": "\(ErrorText.bounded(ids.joined(separator: ","), maxBytes: 1024))"])
            revokeTasks(ids, terminate: terminate, atOnce: atOnce)
        case .eventsChanged(let on):
            logger.info(on ? "task events enabled" : "task events disabled")
            switchTaskEvents(on)
        case .pauseQueue(let queue):
            perform(state.pauseRequested(queue))
        case .resumeQueue(let queue):
            perform(state.resumeRequested(queue, now: .now))
        case .resizePool(let queue, let delta):
            perform(state.resizeRequested(queue, by: delta, now: .now).actions)
        case .shutdown:
            logger.warning("shutdown asked for by remote control")
            beginShutdown()
        case .timeLimit(let task, let soft, let hard):
            let notice = TimeLimitNotice(task: task, soft: soft, hard: hard)
            timeLimits[task] = notice.limit == nil ? nil : notice
            logger.info(
                "time limits set by remote control",
                metadata: [
                    "task.name": "\(task)", "soft": "\(soft.map { "\($0)s" } ?? "none")", "hard": "\(hard.map { "\($0)s" } ?? "none")",
                ])
            for (id, child) in children where state.isLive(id) { child.send(lines: notice.line) }
        }
    }

    /// Records `ids` as revoked node-wide and tells every live child; with `terminate`, then
    /// has the running ones cancelled, or their children killed (see
    /// ``SupervisorState/terminateRequested(_:running:cancellable:atOnce:)``).
    private func revokeTasks(_ ids: [String], terminate: Bool, atOnce: Bool) {
        revoked.insert(ids, now: Date())
        let lines = ids.map { TaskNotice(.revoked, id: $0).line }.joined()
        for (id, child) in children where state.isLive(id) { child.send(lines: lines) }
        guard terminate else { return }
        let live = children.filter { state.isLive($0.key) }
        let running = live.mapValues { Set($0.tasks.running.keys) }
        // Handlers run in tasks of their own (and can be cancelled alone) where concurrency > 1.
        let concurrent = Set(configuration.queues.filter { $0.concurrency > 1 }.map(\.name))
        let cancellable = Set(live.keys.filter { childQueues[$0].map(concurrent.contains) ?? false })
        perform(state.terminateRequested(Set(ids), running: running, cancellable: cancellable, atOnce: atOnce))
    }

    /// Tells every live child to send task events, or to stop.
    private func switchTaskEvents(_ on: Bool) {
        taskEvents = on
        let line = TaskEventsNotice(on: on).line
        for (id, child) in children where state.isLive(id) { child.send(lines: line) }
    }

    /// What ``ControlState`` answers from: gathered here, on the main actor.
    private func nodeFacts() -> NodeFacts {
        let config = configuration
        var totals: [String: Int] = [:]
        let samples = MetricSamples(parsing: String(decoding: metrics.exposition(), as: UTF8.self))
        for sample in samples.matching("warren_tasks_total") where sample.labels["outcome"] != "requeued" {
            if let task = sample.labels["task"] { totals[task, default: 0] += Int(sample.value) }
        }
        var running: [NodeFacts.RunningTask] = []
        var pids: [Int32] = []
        for (id, child) in children where state.isLive(id) {
            pids.append(child.pid)
            for (task, started) in child.tasks.started {
                running.append(.init(id: task, queue: childQueues[id] ?? "", pid: child.pid, name: started.name, since: started.since))
            }
        }
        let url = config.broker.urls.first
        let limits = config.queues.compactMap { queue in queue.timeLimit.map { ($0, $0 + hardTimeLimitGrace) } }.min { $0.0 < $1.0 }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        let rusage: [(String, Double)] = [
            ("utime", seconds(usage.ru_utime)), ("stime", seconds(usage.ru_stime)), ("maxrss", Double(usage.ru_maxrss)),
            ("ixrss", Double(usage.ru_ixrss)), ("idrss", Double(usage.ru_idrss)), ("isrss", Double(usage.ru_isrss)),
            ("minflt", Double(usage.ru_minflt)), ("majflt", Double(usage.ru_majflt)), ("nswap", Double(usage.ru_nswap)),
            ("inblock", Double(usage.ru_inblock)), ("oublock", Double(usage.ru_oublock)), ("msgsnd", Double(usage.ru_msgsnd)),
            ("msgrcv", Double(usage.ru_msgrcv)), ("nsignals", Double(usage.ru_nsignals)), ("nvcsw", Double(usage.ru_nvcsw)),
            ("nivcsw", Double(usage.ru_nivcsw)),
        ]
        let conf: JSONObject = [
            "node_name": .string(config.resolvedNodeName(hostname: HostName.current)),
            "exchange": .string(config.exchange),
            "queues": .array(config.queues.map { .string($0.name) }),
            "worker_concurrency": .int(Int64(config.queues.reduce(0) { $0 + $1.children * $1.concurrency })),
            "broker_heartbeat": .double(Double(config.broker.heartbeat.components.seconds)),
            "worker_send_task_events": .bool(controlNode?.eventsEnabled ?? config.events),
            "control_allow": .array(config.control.allow.map(JSONValue.string)),
            "shutdown_timeout": .double(Double(config.shutdownTimeout.components.seconds)),
            "result_backend": "rpc://",
        ]
        return NodeFacts(
            pid: getpid(), uptime: (ContinuousClock.now - startedAt).seconds, totals: totals, childPIDs: pids.sorted(),
            maxConcurrency: config.queues.reduce(0) { $0 + $1.children * $1.concurrency },
            maxTasksPerChild: config.queues.compactMap(\.maxTasksPerChild).min(),
            timeouts: limits.map { (soft: $0.0.seconds, hard: $0.1.seconds) },
            broker: NodeFacts.BrokerFacts(
                host: url?.host ?? "", port: url?.port ?? 5672, user: url?.user ?? "", vhost: url?.virtualHost ?? "/",
                ssl: url?.usesTLS ?? false,
                heartbeat: Double(config.broker.heartbeat.components.seconds)),
            prefetchCount: config.queues.reduce(0) { $0 + $1.children * $1.prefetch }, rusage: rusage, registered: registry.names,
            exchange: config.exchange, queues: config.queues.map { .init(name: $0.name, durable: true, type: $0.type.rawValue) },
            paused: state.paused, running: running.sorted { $0.id < $1.id }, revoked: revoked.ids(now: Date()), conf: conf,
            version: WarrenVersion.current)
    }

    /// Every child slot `configuration` asks for, in order.
    private static func slotKeys(_ configuration: WarrenConfiguration) -> [SlotKey] {
        configuration.queues.flatMap { q in (1...q.children).map { SlotKey(queue: q.name, slot: $0) } }
    }

    // MARK: - Actions

    /// Does what the state machine decided, in order; then updates the status (on a change).
    private func perform(_ actions: [SupervisorState.Action], status: Bool = true) {
        for action in actions {
            switch action {
            case .spawn(let key, let id):
                Task { await self.spawn(key, id) }
            case .signal(let id, let signo):
                children[id]?.signal(signo)
            case .scheduleRestart(let key, let delay):
                after(delay) { $0.restartTimerFired(key, now: .now) }
            case .scheduleShutdownTimeout(let delay):
                after(delay) { $0.shutdownTimeoutPassed() }
            case .scheduleKill(let delay):
                after(delay) { $0.killTimerFired() }
            case .scheduleReloadStepTimeout(let step, let delay):
                after(delay) { $0.reloadStepTimedOut(step) }
            case .cancelTasks(let id, let tasks):
                children[id]?.send(lines: tasks.map { TaskNotice(.terminate, id: $0).line }.joined())
            case .scheduleTerminateCheck(let id, let tasks, let delay):
                after(delay) { state in
                    state.terminateGraceOver(id, tasks, running: Set(self.children[id]?.tasks.running.keys.map { $0 } ?? []))
                }
            case .answerDeaths(let id, let notice):
                children[id]?.send(notice)
            case .loadConfig:
                Task { await self.loadConfig() }
            case .notifySystemd(.ready(let consuming, let total)):
                systemd.ready(status: "\(consuming)/\(total) children consuming")
            case .notifySystemd(.reloading):
                systemd.reloading(status: "reloading \(configPath)")
            case .notifySystemd(.stopping):
                systemd.stopping(status: "finishing the tasks in flight")
            case .note(let note):
                log(note)
            case .finish(let status):
                finished.resolve(status)
            }
        }
        if status { reportStatus() }
    }

    /// Feeds `event` to the state machine after `delay`.
    private func after(_ delay: Duration, _ event: @escaping @MainActor (inout SupervisorState) -> [SupervisorState.Action]) {
        Task {
            try? await Task.sleep(for: delay)
            self.perform(event(&self.state))
        }
    }

    // MARK: - Children

    private var childEnvironment: [String: String] {
        // Only the supervisor speaks to systemd.
        var env = SystemdNotifier.environmentForChildren(ProcessInfo.processInfo.environment)
        env[ChildEnvironment.supervisorPID] = "\(getpid())"
        return env
    }

    /// Starts the child `id` for `key`, then reads its reports until it exits.
    private func spawn(_ key: SlotKey, _ id: ChildID) async {
        let child: ChildProcess
        do {
            let metrics = self.metrics.forChild(queue: key.queue)
            child = try await ChildProcess(
                executable: executable, argv0: CommandLine.arguments.first ?? "warren",
                arguments: [
                    "child", "--config", configPath, "--config-fd", "\(ConfigSnapshot.childDescriptor)", "--queue", key.queue,
                    "--slot", "\(key.slot)",
                ],
                environment: childEnvironment, configFD: snapshot.descriptor
            ) { report in
                switch report {
                case .started: metrics.taskStarted()
                case .finished(let task): metrics.taskFinished(task)
                case .deadLettered(let reason): metrics.deadLettered(reason: reason)
                default: break
                }
            }
        } catch {
            logger.error("cannot start a child", metadata: ["child": "\(key)", "error": "\(error)"])
            perform(state.spawnFailed(id, now: .now))
            return
        }
        children[id] = child
        childQueues[id] = key.queue
        // A task revoked before this child started is discarded here too.
        revoked.purge(now: Date())
        if revoked.count > 0 { child.send(lines: revoked.ids(now: Date()).map { TaskNotice(.revoked, id: $0).line }.joined()) }
        if taskEvents && configuration.control.enabled { child.send(lines: TaskEventsNotice(on: true).line) }
        if !timeLimits.isEmpty { child.send(lines: timeLimits.keys.sorted().compactMap { timeLimits[$0]?.line }.joined()) }
        perform(state.childStarted(id, now: .now))
        Task {
            for await report in child.reports { self.handle(report, from: id) }
            // The reader has read every report: the task counts are final.
            let exit = await child.exitStatus()
            let (running, finished) = child.tasks.state.withLock { (Set($0.running.keys), $0.finished) }
            let actions = self.state.childExited(id, exit: exit, running: running, finished: finished, now: .now)
            self.perform(actions)
            self.children[id] = nil
            self.childQueues[id] = nil
        }
    }

    private func handle(_ report: ChildReport, from id: ChildID) {
        switch report {
        case .ready: perform(state.childReady(id))
        case .disconnected: perform(state.childDisconnected(id))
        case .recycling(let reason): perform(state.childRecycling(id, reason: reason))
        case .deathsQuery(let task): Task { await self.answerDeathsQuery(task, from: id) }
        case .started, .finished, .deadLettered:
            break  // kept by the child's TaskTracker and counted in the metrics where they are read
        }
    }

    /// Tells `asker`, which got task `taskID` redelivered, how many children died running it.
    ///
    /// The broker redelivers as soon as a dying child's socket closes, which can be before its
    /// exit is taken: a child that has ended is waited for (its reader has then read every
    /// report it wrote), and the tasks of those that ended go with the query; the state
    /// machine counts the ones whose exit it has not taken yet (see
    /// ``SupervisorState/deathsQueried(_:from:endedChildren:)``).
    private func answerDeathsQuery(_ taskID: String, from asker: ChildID) async {
        for (id, child) in children where id != asker && cws_child_has_ended(child.pid) == 1 {
            _ = await child.exitStatus()
        }
        var ended: [ChildID: Set<String>] = [:]
        for (id, child) in children where id != asker && (child.exited != nil || cws_child_has_ended(child.pid) == 1) {
            ended[id] = Set(child.tasks.running.keys)
        }
        perform(state.deathsQueried(taskID, from: asker, endedChildren: ended))
    }

    /// What `systemctl status` shows: how many children consume, and tasks done. Also the
    /// children gauges. Called after every event and every few ticks (for the task count);
    /// systemd hears only of changes.
    private func reportStatus() {
        for queue in configuration.queues {
            let count = state.childCount(queue: queue.name)
            metrics.children(queue: queue.name, alive: count.alive, ready: count.ready, paused: state.paused.contains(queue.name))
        }
        // A child whose exit was taken is in the state's count, the others in their tracker.
        let live = children.filter { state.isLive($0.key) }.values.reduce(0) { $0 + $1.tasks.finished }
        let tasks = state.tasksFinishedByExitedChildren + live
        let status = "\(state.readyCount)/\(state.slotCount) children consuming, \(tasks) tasks done"
        // Not before READY=1: systemd needs no running count while starting, and every datagram
        // queued before READY (its socket holds a few) delays the one that matters.
        guard state.announcedReady, status != lastStatus else { return }
        lastStatus = status
        systemd.status(status)
    }

    // MARK: - Reload

    /// Reads the config file again and declares its topology; the state machine replaces the
    /// children if both worked.
    private func loadConfig() async {
        let fresh: ConfigSnapshot
        do {
            fresh = try ConfigSnapshot(path: configPath, environment: ProcessInfo.processInfo.environment)
        } catch {
            logger.error("reload refused: the new config is invalid; still running on the old one", metadata: ["error": "\(error)"])
            perform(state.reloadRefused())
            return
        }
        do {
            try await Topology.declare(configuration: fresh.configuration, taskNames: registry.names, logger: logger)
        } catch {
            logger.error("reload refused: cannot declare the new topology; still running on the old one", metadata: ["error": "\(error)"])
            perform(state.reloadRefused())
            return
        }
        let old = configuration
        snapshot = fresh
        if fresh.configuration.schedules != old.schedules || fresh.configuration.exchange != old.exchange
            || fresh.configuration.broker != old.broker
        {
            logger.info("reload: restarting the scheduler", metadata: ["schedules": "\(fresh.configuration.schedules.count)"])
            stopScheduler()
            startScheduler()
        }
        perform(state.reloadConfigured(Self.slotKeys(fresh.configuration), now: .now))
    }

    // MARK: - Logs and metrics

    private func log(_ note: SupervisorState.Note) {
        func child(_ key: SlotKey, _ id: ChildID) -> Logger.Metadata {
            var metadata: Logger.Metadata = ["child": "\(key)"]
            if let pid = children[id]?.pid { metadata["child.pid"] = "\(pid)" }
            return metadata
        }
        func exited(_ key: SlotKey, _ id: ChildID, _ exit: ChildProcess.Exit, _ running: [String]) -> Logger.Metadata {
            var metadata = child(key, id)
            metadata["exit"] = "\(exit)"
            if !running.isEmpty { metadata["tasks.running"] = "\(running.joined(separator: ","))" }
            return metadata
        }
        switch note {
        case .childStarted(let key, let id):
            logger.info("child started", metadata: child(key, id))
        case .childConsuming(let key, let id):
            logger.debug("child consuming", metadata: child(key, id))
        case .childDisconnected(let key, let id):
            logger.warning("child lost its broker connection; it reconnects by itself", metadata: child(key, id))
        case .childReconnected(let key, _):
            metrics.brokerReconnected(queue: key.queue)
        case .everyChildReady(let count):
            logger.info("ready: every child is consuming", metadata: ["children": "\(count)"])
        case .childStopped(let key, let id, let exit, let running):
            logger.info("child stopped", metadata: exited(key, id, exit, running))
        case .childRecycled(let key, let id, let reason, let exit, let running):
            metrics.childRecycled(queue: key.queue, reason: reason)
            var metadata = exited(key, id, exit, running)
            metadata["reason"] = "\(reason)"
            logger.info("child recycled; starting its replacement", metadata: metadata)
        case .childRestarting(let key, let id, let cause, let exit, let running, let delay):
            metrics.childRestarted(queue: key.queue, reason: cause.rawValue)
            var metadata = exited(key, id, exit, running)
            metadata["restart.in"] = "\(delay.secondsText)"
            logger.error("child died; restarting", metadata: metadata)
        case .hardLimitKill(let key, let id, let tasks):
            var metadata = child(key, id)
            metadata["task.id"] = "\(tasks.joined(separator: ","))"
            logger.error("hard time limit passed: killing the child", metadata: metadata)
        case .terminating(let key, let id, let tasks):
            var metadata = child(key, id)
            metadata["task.id"] = "\(tasks.joined(separator: ","))"
            logger.warning("revoke with terminate: killing the child running the task", metadata: metadata)
        case .cancelling(let key, let id, let tasks):
            var metadata = child(key, id)
            metadata["task.id"] = "\(tasks.joined(separator: ","))"
            logger.info("revoke with terminate: cancelling the task's handler", metadata: metadata)
        case .childTerminated(let key, let id, let exit, let running):
            logger.info("child killed for a revoke; starting its replacement", metadata: exited(key, id, exit, running))
        case .shuttingDown(let count):
            logger.info("shutting down warmly (a second signal stops at once)", metadata: ["children": "\(count)"])
        case .stoppingNow(let reason):
            let text =
                switch reason {
                case .secondSignal: "second signal"
                case .shutdownTimeout(let timeout): "shutdown_timeout of \(timeout.humanReadable) passed"
                }
            logger.warning("stopping children now; unacknowledged tasks go back to their queues", metadata: ["reason": "\(text)"])
        case .reloading:
            logger.info("reloading the config", metadata: ["config": "\(configPath)"])
        case .reloadStepNotReady(let key):
            logger.warning("a reloaded child is not consuming yet; replacing its predecessor anyway", metadata: ["child": "\(key)"])
        case .reloaded(let count):
            logger.info("reloaded", metadata: ["children": "\(count)"])
            if !state.paused.isEmpty {
                logger.info("queues stay paused", metadata: ["queues": "\(state.paused.sorted().joined(separator: ","))"])
            }
        case .queuePaused(let queue, let stopping):
            logger.info("queue paused: its children stop warmly", metadata: ["queue": "\(queue)", "children": "\(stopping)"])
        case .queueResumed(let queue):
            logger.info("queue resumed", metadata: ["queue": "\(queue)"])
        case .poolResized(let queue, let count):
            logger.info("pool resized", metadata: ["queue": "\(queue)", "children": "\(count)"])
        }
    }
}

/// The last time a loop ran, readable from any thread.
final class Heartbeat: Sendable {
    private let last = Mutex(ContinuousClock.now)
    func beat() { last.withLock { $0 = .now } }
    func isRecent(within limit: Duration) -> Bool { last.withLock { ContinuousClock.now - $0 < limit } }
}
