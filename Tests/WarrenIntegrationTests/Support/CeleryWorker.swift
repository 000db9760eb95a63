import AMQP
import Foundation
import Testing

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A real Python Celery worker (`celery -A py_tasks worker --pool solo`, Tests/Interop/py_tasks.py,
/// in the venv scripts/python-env makes) consuming one queue of its own, for tests where Swift
/// sends and Python runs (typed tasks, canvas chains).
///
/// It consumes only ``queue`` (Celery declares it: a durable queue with a direct exchange of the
/// same name), so send with `TaskOptions(queue: worker.queue)`. ``stop()`` ends it and removes
/// the queue; a test process that dies leaves no worker behind (py_tasks.py watches its parent).
final class CeleryWorker: Sendable {
    /// The venv's python (`WARREN_TEST_PYTHON`, which scripts/test sets), or nil.
    static var python: String? { ProcessInfo.processInfo.environment["WARREN_TEST_PYTHON"] }

    /// Tests/Interop: the Celery app modules.
    static var interopDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop")
    }

    /// The queue this worker consumes.
    let queue: String
    /// The worker's output (stdout and stderr: Celery logs to stderr).
    let logs = LogLines()
    private let process: Process

    /// Starts a worker of `app` on a fresh queue (or `queue`) and waits for its `ready.` line.
    /// - Throws: when `WARREN_TEST_PYTHON` is not set, or the worker is not ready within `timeout`
    ///   (with its output's tail).
    init(app: String = "py_tasks", queue: String? = nil, environment: [String: String] = [:], timeout: Duration = .seconds(60))
        async throws
    {
        let python = try #require(Self.python, "WARREN_TEST_PYTHON is not set: run scripts/test (it creates the Celery venv)")
        let queue = queue ?? "py.\(UUID().uuidString.prefix(8).lowercased())"
        self.queue = queue
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.currentDirectoryURL = Self.interopDirectory
        process.arguments = [
            "-m", "celery", "-A", app, "worker", "--pool", "solo", "--concurrency", "1", "-Q", queue, "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", "\(queue)@%h",
        ]
        var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        env["WARREN_TEST_AMQP_URL"] = env["WARREN_TEST_AMQP_URL"] ?? IntegrationBroker.url
        env["WARREN_TEST_PARENT_PID"] = String(getpid())
        env["PYTHONPATH"] = Self.interopDirectory.path + (env["PYTHONPATH"].map { ":" + $0 } ?? "")
        env["PYTHONUNBUFFERED"] = "1"
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        logs.follow(pipe.fileHandleForReading)
        // "[... INFO/MainProcess] <queue>@<host> ready." once it consumes the queue.
        guard await logs.wait(for: ["\(queue)@", " ready."], timeout: timeout) else {
            await stop()
            throw WorkerTestError(
                "the Celery worker was not ready within \(timeout); its output:\n" + log.suffix(30).joined(separator: "\n"))
        }
    }

    /// Every output line so far.
    var log: [String] { logs.all }

    /// The worker's pid.
    var pid: Int32 { process.processIdentifier }

    /// Ends the worker (SIGTERM: Celery's warm shutdown; SIGKILL after `grace`), waits until it
    /// is gone, and deletes its queue and exchange. Returns the exit status (nil if it had to
    /// be killed).
    @discardableResult
    func stop(grace: Duration = .seconds(10)) async -> Int32? {
        var status: Int32?
        if process.isRunning {
            process.terminate()
            if await ProcessWatch.waitForExit(of: [pid], within: grace).isEmpty == false {
                ProcessWatch.kill([pid])
            }
        }
        let exited = await withCheckedContinuation { c in
            DispatchQueue.global().async { [process] in
                process.waitUntilExit()
                c.resume(returning: (process.terminationReason, process.terminationStatus))
            }
        }
        if exited.0 == .exit { status = exited.1 }
        if let connection = try? IntegrationBroker.connect(), let channel = try? connection.openChannel() {
            _ = try? channel.deleteQueue(queue)
            try? channel.deleteExchange(queue)
            connection.close()
        }
        return status
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
