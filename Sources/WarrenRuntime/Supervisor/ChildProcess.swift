import AMQP
import CWarrenSystem
import Foundation
import Synchronization

/// A child worker process as the supervisor sees it: its pid, its reports, its exit.
final class ChildProcess: Sendable {
    /// How a child process ended.
    enum Exit: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signalled(let signo): "killed by signal \(signo) (\(String(cString: strsignal(signo))))"
            }
        }
    }

    let pid: pid_t
    /// The least time between two reads of a child's reports: a busy child's reports are read
    /// in batches (see ``LineReader/readLines(from:pace:_:)``), at most 50 ms late. Each child
    /// has a reader thread: with 100 busy children, 20 ms meant 5,000 wake-ups a second, most of
    /// the supervisor's CPU. Nothing waits on a report but metrics (within 1 s), the hard time
    /// limit (50 ms later at most) and a redelivered task's deaths query (rare).
    static let readPace = Duration.milliseconds(50)
    /// Lifecycle reports from the child (ready, recycling), in order; finishes when the child
    /// closes its end (it exited). Task reports are kept in ``tasks`` instead: two per task
    /// would cost the supervisor an actor hop each.
    let reports: AsyncStream<ChildReport>
    /// The child's tasks: those running now (with their hard deadline) and how many finished.
    var tasks: TaskTracker { tasksBox }
    private let tasksBox: TaskTracker
    private let control: FileHandle
    private let exit = OnceValue<Exit>()

    /// Spawns `executable` with `argv0` and `arguments` as its argv, and `environment`; the
    /// child gets `configFD` (unless -1) as its descriptor 4.
    /// `taskReports` gets the `started`, `finished` and `deadLettered` reports, on the thread that reads
    /// the child's pipe.
    /// - Throws: ``WorkerError`` when the process cannot be started.
    init(
        executable: String, argv0: String, arguments: [String], environment: [String: String], configFD: Int32 = -1,
        taskReports: @escaping @Sendable (ChildReport) -> Void = { _ in }
    ) async throws {
        var statusPipe: [Int32] = [0, 0]
        var controlPipe: [Int32] = [0, 0]
        guard cws_pipe_cloexec(&statusPipe) == 0, cws_pipe_cloexec(&controlPipe) == 0 else {
            throw WorkerError(.spawnFailed, "cannot create pipes for a child: \(String(cString: strerror(errno)))")
        }
        // Room for the reports a busy child writes between two paced reads (~130 bytes a task);
        // if the system refuses, the default 64 KiB only makes the child wait now and then.
        _ = cws_grow_pipe(statusPipe[1], 1 << 20)
        let argv = [argv0] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        let (pid, spawnError) = await Spawner.shared.spawn(
            path: executable, argv: argv, envp: envp, statusFD: statusPipe[1], controlFD: controlPipe[0], configFD: configFD)
        close(statusPipe[1])
        close(controlPipe[0])
        guard pid > 0 else {
            close(statusPipe[0])
            close(controlPipe[1])
            throw WorkerError(.spawnFailed, "cannot start \(executable): \(String(cString: strerror(spawnError)))")
        }
        self.pid = pid
        control = FileHandle(fileDescriptor: controlPipe[1], closeOnDealloc: true)

        let (stream, sink) = AsyncStream.makeStream(of: ChildReport.self)
        reports = stream
        // A thread of its own reads the reports until the child closes its end (it exited),
        // then waits for the exit status: both calls block.
        let exit = self.exit
        let statusRead = statusPipe[0]
        let tracker = TaskTracker()
        tasksBox = tracker
        detachThread(name: "warren-reports") {
            LineReader.readLines(from: statusRead, pace: Self.readPace) { line in
                guard let report = ChildReport(line: Substring(String(decoding: line, as: UTF8.self))) else { return }
                switch report {
                case .started(let id, let deadline, let name):
                    let since = Date().timeIntervalSince1970
                    tracker.state.withLock {
                        $0.running[id] = deadline
                        $0.started[id] = TaskTracker.Started(name: name, since: since)
                    }
                    taskReports(report)
                case .finished(let summary):
                    tracker.state.withLock {
                        $0.running[summary.id] = nil
                        $0.started[summary.id] = nil
                        $0.finished += 1
                    }
                    taskReports(report)
                case _ where report.isPerTask: taskReports(report)
                default: sink.yield(report)
                }
            }
            close(statusRead)
            sink.finish()
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import (macros).
            exit.resolve((status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f))
        }
    }

    /// Waits for the process to end.
    func exitStatus() async -> Exit { await exit.value }

    /// The exit, if the process has ended.
    var exited: Exit? { exit.current }

    /// Sends a signal (ignoring a child that already exited).
    func signal(_ signo: Int32) { _ = kill(pid, signo) }

    /// Writes a notice to the child's standard input (dropped if the child is gone).
    /// Writes lines to the child's standard input (``TaskNotice``s and the like); the child's lifeline
    /// thread reads them at once, so the write does not wait long even for many.
    func send(lines: String) {
        guard !lines.isEmpty else { return }
        Array(lines.utf8).withUnsafeBytes { writeAll($0, to: control.fileDescriptor) }
    }

    func send(_ notice: SupervisorNotice) {
        notice.line.withUnsafeBytes { writeAll($0, to: control.fileDescriptor) }  // fails with EPIPE once the child is gone
    }
}

/// A value set once, awaited by any number of callers.
final class OnceValue<Value: Sendable>: Sendable {
    private let state: Mutex<(Value?, [CheckedContinuation<Value, Never>])>

    /// Unset, or set already to `value`.
    init(_ value: Value? = nil) { state = Mutex((value, [])) }

    /// Sets the value (the first call wins) and wakes the waiters.
    func resolve(_ value: Value) {
        let waiters = state.withLock { s -> [CheckedContinuation<Value, Never>] in
            guard s.0 == nil else { return [] }
            s.0 = value
            defer { s.1 = [] }
            return s.1
        }
        waiters.forEach { $0.resume(returning: value) }
    }

    /// The value, once set.
    var current: Value? { state.withLock { $0.0 } }

    /// Waits for the value.
    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { s -> Value? in
                    if let v = s.0 { return v }
                    s.1.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}

/// A child's tasks as its reports tell them, updated by the thread reading its pipe.
final class TaskTracker: Sendable {
    /// What `active` shows of a running task: its name, and when its start was read (seconds since 1970).
    struct Started: Sendable, Equatable {
        var name: String
        var since: Double
    }

    struct State {
        /// Running task ids and their hard deadlines.
        var running: [String: Double?] = [:]
        var started: [String: Started] = [:]
        var finished = 0
    }

    let state = Mutex(State())
    var running: [String: Double?] { state.withLock { $0.running } }
    var started: [String: Started] { state.withLock { $0.started } }
    var finished: Int { state.withLock { $0.finished } }
}
