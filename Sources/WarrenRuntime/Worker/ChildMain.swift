import CWarrenSystem
import Foundation
import Logging
import Synchronization
import WarrenCore

/// The body of a child worker process (the hidden `child` verb the supervisor re-executes).
package enum ChildMain {
    /// Names the process after its binary, as its supervisor is named. The kernel names a
    /// process after the file it executed, and children execute `/proc/self/exe`: `top`,
    /// `ps -o comm` and `pkill warren-demo` would see them as `exe`.
    private static func nameProcess() {
        guard let path = CommandLine.arguments.first, let name = path.split(separator: "/").last else { return }
        let fd = open("/proc/self/comm", O_WRONLY)  // the main thread's name: the process's
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))  // the kernel keeps 15
        bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// Runs one child until a warm shutdown (exit 0), a recycle (exit 0 after reporting it) or a
    /// failure (exit 1). A lost broker connection is no failure: the child reconnects by itself
    /// and reports `disconnected`, then `ready` again.
    package static func run(configuration: WarrenConfiguration, queueName: String, slot: Int, registry: TaskRegistry, logger: Logger) async
        -> Int32
    {
        nameProcess()
        guard let queue = configuration.queue(named: queueName) else {
            logger.error("no such queue in the config", metadata: ["queue": "\(queueName)"])
            return 1
        }
        // Task after task allocates and frees the same few hundred KiB: keep them (1 MiB at most
        // per heap) rather than trimming and faulting them in again. Large blocks are still
        // mmapped and given back at once (the threshold stays 128 KiB).
        _ = cws_keep_freed_heap(1 << 20)
        var logger = logger
        logger[metadataKey: "pid"] = "\(getpid())"

        let reports = ReportWriter(descriptor: 3)
        defer { reports.flush() }  // the last tasks' reports, before the process exits
        let deaths = DeathsQueries(reports: reports)
        let revoked = RevokedList()
        let timeLimits = Mutex<[String: TaskTimeLimit]>([:])
        let terminations = Terminations()
        let events = TaskEventEmitter(node: configuration.resolvedNodeName(hostname: HostName.current), on: false)
        let stop = ChildStopper(shutdownTimeout: configuration.shutdownTimeout, reports: reports, deaths: deaths, logger: logger)
        // Hear of stop signals before anything can send one; the parent-death signal too.
        let signals = ShutdownSignals()
        let deathSignals = ShutdownSignals([Lifeline.deathSignal])
        if let supervisor = getenv(ChildEnvironment.supervisorPID).flatMap({ pid_t(String(cString: $0)) }) {
            let alive = Lifeline.hold(
                supervisor: supervisor, control: STDIN_FILENO,
                notice: { line in
                    if let notice = TaskNotice(line: line) {
                        switch notice.kind {
                        case .revoked: revoked.insert(notice.id)
                        case .terminate: terminations.terminate(notice.id)
                        }
                    } else if let switched = TaskEventsNotice(line: line) {
                        events.set(switched.on)
                    } else if let limits = TimeLimitNotice(line: line) {
                        timeLimits.withLock { $0[limits.task] = limits.limit }
                    } else {
                        deaths.take(line)
                    }
                },
                lost: { stop.handle(.supervisorGone, cause: "its pipe ended") })
            guard alive else {
                logger.error("the supervisor is gone; not starting")
                return 1
            }
            Task {
                while await deathSignals.first() != nil {
                    if Lifeline.supervisorIsGone(supervisor) { stop.handle(.supervisorGone, cause: "the parent-death signal") }
                }
            }
        }
        let hooks = ChildHooks(
            taskStarted: { task, deadline in
                reports.send(.started(id: task.id, hardDeadline: deadline?.timeIntervalSince1970, name: task.name))
            },
            taskFinished: { summary in reports.send(.finished(summary)) },
            deadLettered: { reason in reports.send(.deadLettered(reason: reason.rawValue)) },
            recycling: { reason in reports.send(.recycling(reason: reason)) },
            deaths: { await deaths.ask($0) },
            isRevoked: { revoked.contains($0) },
            timeLimit: { name in timeLimits.withLock { $0[ChildReport.field(name)] } },
            cancellable: { id, cancel in terminations.started(ChildReport.field(id), cancel: cancel) },
            handlerEnded: { terminations.ended(ChildReport.field($0)) },
            taskEventsOn: { events.isOn },
            sendTaskEvent: { events.send($0, io: $1) },
            flushTaskEvents: { events.flush(io: $0) })
        let child = ChildWorker(queue: queue, configuration: configuration, registry: registry, slot: slot, logger: logger, hooks: hooks)

        let work = Task { try await child.run(onReady: { reports.send(.ready) }, onDisconnected: { reports.send(.disconnected) }) }
        stop.attach(work)
        Task {
            while await signals.first() != nil { stop.handle(.stopSignal, cause: "a stop signal") }
        }
        do {
            try await work.value
            return 0
        } catch {
            logger.error("child failed", metadata: ["error": "\(error)"])
            return 1
        }
    }
}

/// Writes reports to the supervisor's pipe; does nothing when the descriptor is not open (a
/// child started by hand).
///
/// Reports that only feed metrics (`finished`, `deadLettered`) wait in a buffer for the next
/// report that matters now (the next task's `started`, which must be in the pipe before its
/// handler runs, so that the supervisor knows what a crash interrupted) or for at most
/// ``lingering``: a busy child then costs its supervisor one wake-up per task, not two. If the
/// child dies, the metrics miss the last few tasks it finished; nothing else depends on them.
final class ReportWriter: Sendable {
    private let descriptor: Int32?
    private let pending = Mutex<(bytes: [UInt8], flushScheduled: Bool)>(([], false))
    /// How long a metrics-only report may wait for company.
    static let lingering = Duration.milliseconds(50)
    /// A buffer this full is written at once.
    private static let batchBytes = 16 << 10

    init(descriptor: Int32) {
        self.descriptor = fcntl(descriptor, F_GETFD) >= 0 ? descriptor : nil
    }

    /// Whether a supervisor reads the reports.
    var isOpen: Bool { descriptor != nil }

    func send(_ report: ChildReport) {
        guard let descriptor else { return }
        let line = report.line
        let (out, schedule) = pending.withLock { state -> ([UInt8]?, Bool) in
            state.bytes.append(contentsOf: line.utf8)
            if report.canWait && state.bytes.count < Self.batchBytes {
                defer { state.flushScheduled = true }
                return (nil, !state.flushScheduled)
            }
            defer { state.bytes.removeAll(keepingCapacity: true) }
            return (state.bytes, false)
        }
        if let out { Self.write(out, to: descriptor) }
        if schedule {
            Task {
                try? await Task.sleep(for: Self.lingering)
                self.flush()
            }
        }
    }

    /// Writes what waits in the buffer.
    func flush() {
        guard let descriptor else { return }
        let out = pending.withLock { state -> [UInt8] in
            state.flushScheduled = false
            defer { state.bytes.removeAll(keepingCapacity: true) }
            return state.bytes
        }
        if !out.isEmpty { Self.write(out, to: descriptor) }
    }

    /// Lines from one writer stay in order even when a large batch is split.
    private static func write(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { writeAll($0, to: descriptor) }
    }
}

/// The task ids revoked on the node, as the supervisor told this child (`X` ``TaskNotice``s),
/// bounded and expiring as the supervisor's own list.
final class RevokedList: Sendable {
    private let tasks = Mutex(RevokedTasks())

    func insert(_ id: String) { tasks.withLock { $0.insert([id], now: Date()) } }

    func contains(_ id: String) -> Bool {
        // A task id is compared as the pipe carries it (``ChildReport/field(_:)``).
        tasks.withLock { $0.contains(ChildReport.field(id), now: Date()) }
    }
}

/// Asks the supervisor how often a redelivered task killed children, and waits for its word
/// (which the ``Lifeline`` reads from the child's standard input).
final class DeathsQueries: Sendable {
    private let reports: ReportWriter
    private let waiting = Mutex<(byID: [String: [CheckedContinuation<TaskDeaths?, Never>]], abandoned: Bool)>(([:], false))
    /// The supervisor answers at once; this only bounds a wait on a supervisor that is gone.
    private let patience = Duration.seconds(10)

    init(reports: ReportWriter) { self.reports = reports }

    /// The deaths of task `id` as the supervisor counts them (nil: none, or no supervisor).
    func ask(_ id: String) async -> TaskDeaths? {
        guard reports.isOpen else { return nil }
        let id = ChildReport.field(id)  // as the supervisor sees it
        let timeout = Task { [patience] in
            try await Task.sleep(for: patience)
            self.answer(id, nil)
        }
        defer { timeout.cancel() }
        return await withCheckedContinuation { continuation in
            let asked = waiting.withLock { w -> Bool in
                guard !w.abandoned else { return false }
                w.byID[id, default: []].append(continuation)
                return true
            }
            if asked { reports.send(.deathsQuery(id: id)) } else { continuation.resume(returning: nil) }
        }
    }

    private func answer(_ id: String, _ deaths: TaskDeaths?) {
        let continuations = waiting.withLock { $0.byID.removeValue(forKey: id) } ?? []
        continuations.forEach { $0.resume(returning: deaths) }
    }

    /// Takes one line of the supervisor's (an answer).
    func take(_ line: Substring) {
        if let notice = SupervisorNotice(line: line) { answer(notice.id, notice.deaths) }
    }

    /// The supervisor is gone: every question waiting, and every later one, gets "none known".
    func abandon() {
        let all = waiting.withLock { w -> [CheckedContinuation<TaskDeaths?, Never>] in
            w.abandoned = true
            defer { w.byID.removeAll() }
            return w.byID.values.flatMap { $0 }
        }
        all.forEach { $0.resume(returning: nil) }
    }
}
