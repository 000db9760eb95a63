import CWarrenSystem
import Foundation
import Logging
import Synchronization

/// The body of a child worker process (the hidden `child` verb the supervisor re-executes).
enum ChildMain {
    /// The environment variable through which a child learns its supervisor's pid.
    static let supervisorPIDVariable = "WARREN_SUPERVISOR_PID"

    /// Runs one child until a warm shutdown (exit 0), a recycle (exit 0 after reporting it) or a
    /// failure (exit 1). A lost broker connection is no failure: the child reconnects by itself
    /// and reports `disconnected`, then `ready` again.
    static func run(configuration: WarrenConfiguration, queueName: String, slot: Int, registry: TaskRegistry, logger: Logger) async
        -> Int32
    {
        // Die with the supervisor, even if it is SIGKILLed; then check it did not die already.
        _ = cws_set_parent_death_signal(SIGTERM)
        if let expected = getenv(supervisorPIDVariable).flatMap({ Int32(String(cString: $0)) }), getppid() != expected {
            logger.error("the supervisor is gone; not starting")
            return 1
        }
        guard let queue = configuration.queue(named: queueName) else {
            logger.error("no such queue in the config", metadata: ["queue": "\(queueName)"])
            return 1
        }
        var logger = logger
        logger[metadataKey: "pid"] = "\(getpid())"

        let reports = ReportWriter(descriptor: 3)
        let deaths = DeathsQueries(reports: reports)
        deaths.listen(on: STDIN_FILENO)
        let hooks = ChildHooks(
            taskStarted: { task, deadline in
                reports.send(.started(id: task.id, hardDeadline: deadline?.timeIntervalSince1970))
            },
            taskFinished: { summary in reports.send(.finished(summary)) },
            deadLettered: { reason in reports.send(.deadLettered(reason: reason.rawValue)) },
            recycling: { reason in reports.send(.recycling(reason: reason)) },
            deaths: { await deaths.ask($0) })
        let child = ChildWorker(queue: queue, configuration: configuration, registry: registry, slot: slot, logger: logger, hooks: hooks)

        let work = Task { try await child.run(onReady: { reports.send(.ready) }, onDisconnected: { reports.send(.disconnected) }) }
        let signals = ShutdownSignals()
        Task {
            await signals.first()
            work.cancel()  // warm: stop taking tasks, finish the running ones
            await signals.first()
            logger.warning("second signal: stopping now; unacknowledged tasks go back to their queues")
            exit(1)  // the connection closes with the process: the broker requeues what was not acked
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
final class ReportWriter: Sendable {
    private let descriptor: Int32?
    private let lock = Mutex(())

    init(descriptor: Int32) {
        self.descriptor = fcntl(descriptor, F_GETFD) >= 0 ? descriptor : nil
    }

    /// Whether a supervisor reads the reports.
    var isOpen: Bool { descriptor != nil }

    func send(_ report: ChildReport) {
        guard let descriptor else { return }
        let data = report.line
        lock.withLock { _ in
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return }
                    offset += n
                }
            }
        }
    }
}

/// Asks the supervisor how often a redelivered task killed children, and waits for its word.
final class DeathsQueries: Sendable {
    private let reports: ReportWriter
    private let waiting = Mutex<[String: [CheckedContinuation<TaskDeaths?, Never>]]>([:])
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
            waiting.withLock { $0[id, default: []].append(continuation) }
            reports.send(.deathsQuery(id: id))
        }
    }

    private func answer(_ id: String, _ deaths: TaskDeaths?) {
        let continuations = waiting.withLock { $0.removeValue(forKey: id) } ?? []
        continuations.forEach { $0.resume(returning: deaths) }
    }

    /// Reads the answers from `descriptor` (the child's standard input) on a thread of its own.
    func listen(on descriptor: Int32) {
        detachThread(name: "warren-notices") { [self] in
            LineReader.readLines(from: descriptor) { line in
                if let notice = SupervisorNotice(line: Substring(String(decoding: line, as: UTF8.self))) {
                    answer(notice.id, notice.deaths)
                }
            }
        }
    }
}
