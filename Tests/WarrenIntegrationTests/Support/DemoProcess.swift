import Foundation
import Synchronization
import Testing

/// The real `warren-demo` binary, as a user runs it.
enum DemoBinary {
    /// Next to the test bundle in the build folder (`swift build --build-tests` builds it too).
    static var path: String {
        if let p = ProcessInfo.processInfo.environment["WARREN_DEMO_BIN"] { return p }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("warren-demo").path
    }

    /// Runs a verb to completion; returns exit status, stdout and stderr.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, out: String, err: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {  // blocking waits stay off the cooperative pool
                continuation.resume(with: Result { try runBlocking(arguments, environment: environment) })
            }
        }
    }

    private static func runBlocking(_ arguments: [String], environment: [String: String]) throws -> (
        status: Int32, out: String, err: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// Log lines of a process, and callers waiting for a line containing some text.
final class LogLines: Sendable {
    private struct State {
        var lines: [String] = []
        /// When each line was read from the pipe (the same index as in `lines`).
        var arrivals: [ContinuousClock.Instant] = []
        var partial = Data()
        var waiters: [(id: Int, texts: [String], continuation: CheckedContinuation<Bool, Never>)] = []
        var nextID = 0
    }
    private let state = Mutex(State())

    var all: [String] { state.withLock { $0.lines } }

    /// Reads `handle` until its end on a thread of its own, appending what comes: plain blocking
    /// reads (FileHandle.readabilityHandler races with closing on Linux).
    func follow(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                append(chunk)
            }
        }
    }

    /// Adds raw output; wakes the waiters whose text appeared.
    func append(_ chunk: Data) {
        let now = ContinuousClock.now
        let fired = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            s.partial.append(chunk)
            var new: [String] = []
            while let nl = s.partial.firstIndex(of: 0x0A) {
                new.append(String(decoding: s.partial[s.partial.startIndex..<nl], as: UTF8.self))
                s.partial.removeSubrange(s.partial.startIndex...nl)
            }
            s.lines.append(contentsOf: new)
            s.arrivals.append(contentsOf: repeatElement(now, count: new.count))
            var fired: [CheckedContinuation<Bool, Never>] = []
            s.waiters.removeAll { w in
                guard new.contains(where: { line in w.texts.allSatisfy(line.contains) }) else { return false }
                fired.append(w.continuation)
                return true
            }
            return fired
        }
        fired.forEach { $0.resume(returning: true) }
    }

    /// When the first line containing all of `texts` was read, to the precision of a pipe read
    /// (the logs' own timestamps count whole seconds); `nil` if none was.
    func arrival(of texts: [String]) -> ContinuousClock.Instant? {
        state.withLock { s in
            s.lines.firstIndex { line in texts.allSatisfy(line.contains) }.map { s.arrivals[$0] }
        }
    }

    /// Waits until a line contains all of `texts` (one already seen counts); `false` after `timeout`.
    func wait(for texts: [String], timeout: Duration) async -> Bool {
        let id = state.withLock { s -> Int in
            s.nextID += 1
            return s.nextID
        }
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            let w = state.withLock { s -> CheckedContinuation<Bool, Never>? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i).continuation
            }
            w?.resume(returning: false)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let seen = state.withLock { s -> Bool in
                if s.lines.contains(where: { line in texts.allSatisfy(line.contains) }) { return true }
                s.waiters.append((id, texts, continuation))
                return false
            }
            if seen { continuation.resume(returning: true) }
        }
    }
}

/// `warren-demo run` in the background, with its log lines as they come.
final class DemoWorker: Sendable {
    private let process: Process
    let logs = LogLines()

    /// Starts the worker with `config` and waits until every child consumes.
    /// - Parameters:
    ///   - fileLimit: The supervisor's descriptor limit (`ulimit -n`, soft and hard), if any.
    ///   - freeLowDescriptors: Start it with descriptors 3 to 9 closed, as Python's `subprocess`
    ///     and systemd do, so that its own first descriptors take those numbers.
    init(config path: String, environment: [String: String] = [:], fileLimit: Int? = nil, freeLowDescriptors: Bool = false) async throws {
        process = Process()
        if fileLimit != nil || freeLowDescriptors {
            // The shell execs the worker: same pid, the limit set, the descriptors closed.
            let limit = fileLimit.map { "ulimit -n \($0) && " } ?? ""
            let close = freeLowDescriptors ? "exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- && " : ""
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", limit + close + "exec \"$0\" \"$@\"", DemoBinary.path, "run", "--config", path]
        } else {
            process.executableURL = URL(fileURLWithPath: DemoBinary.path)
            process.arguments = ["run", "--config", path]
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        logs.follow(pipe.fileHandleForReading)
        try await waitForLog("ready: every child is consuming", timeout: .seconds(30))
    }

    /// Every log line so far.
    var log: [String] { logs.all }

    /// The supervisor's pid.
    var pid: Int32 { process.processIdentifier }

    /// Sends a signal to the supervisor.
    func signal(_ signo: Int32) { kill(process.processIdentifier, signo) }

    /// The pids of the supervisor's child processes now.
    var childPIDs: [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { tid -> [Int32] in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/children", encoding: .utf8)) ?? ""
            return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    /// The pid of the child that logged `text` together with `also` (from its `pid=` metadata).
    func childPID(logging text: String, _ also: String) -> Int32? {
        for line in log where line.contains(text) && line.contains(also) {
            if let range = line.firstRange(of: " pid=") {
                let digits = line[range.upperBound...].prefix { $0.isNumber }
                if let pid = Int32(digits) { return pid }
            }
        }
        return nil
    }

    /// Waits until a log line contains all of `texts`, or throws after `timeout` with the log's tail.
    func waitForLog(_ texts: String..., timeout: Duration) async throws {
        guard await logs.wait(for: texts, timeout: timeout) else {
            throw WorkerTestError("no log line containing \(texts) within \(timeout); log:\n" + log.suffix(30).joined(separator: "\n"))
        }
    }

    /// Log lines that mention `text` (a task id, say).
    func lines(containing text: String) -> [String] { log.filter { $0.contains(text) } }

    /// Sends SIGTERM and returns the exit status after the warm shutdown.
    func stop() async -> Int32 {
        if process.isRunning { process.terminate() }
        return await exitStatus()
    }

    /// Waits for the supervisor to exit (by itself: nothing is sent) and returns its status.
    func exitStatus() async -> Int32 {
        let status = await withCheckedContinuation { c in
            DispatchQueue.global().async { [process] in
                process.waitUntilExit()
                c.resume(returning: process.terminationStatus)
            }
        }
        if status != 0 {  // shown next to the failed expectation
            print("warren-demo run exited \(status); its log ends:\n" + log.suffix(25).joined(separator: "\n"))
        }
        return status
    }

    deinit { if process.isRunning { process.terminate() } }
}

struct WorkerTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
