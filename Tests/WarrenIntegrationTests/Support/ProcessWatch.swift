import Foundation

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Processes that are not the test's children: their exits cannot be awaited, only watched.
enum ProcessWatch {
    /// Waits until none of `pids` is alive (a zombie counts as gone); returns those still alive
    /// after `limit`.
    static func waitForExit(of pids: [Int32], within limit: Duration) async -> [Int32] {
        let deadline = ContinuousClock.now + limit
        var alive = pids
        while true {
            alive = alive.filter { Glibc.kill($0, 0) == 0 && !isZombie($0) }
            if alive.isEmpty || ContinuousClock.now >= deadline { return alive }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGKILLs what a failed test left behind, so that it does not steal later tests' tasks.
    static func kill(_ pids: [Int32]) { for pid in pids { Glibc.kill(pid, SIGKILL) } }

    static func isZombie(_ pid: Int32) -> Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }
}

/// How many consumers a queue has, as the broker says (passive declare).
enum ConsumerCount {
    /// Polls until the queue has `expected` consumers or `limit` passed; the last count and when.
    static func waitUntil(_ queue: String, is expected: UInt32, within limit: Duration) async throws -> (count: UInt32, after: Duration) {
        let start = ContinuousClock.now
        let broker = try await BrokerIO.open()
        defer { Task { await broker.close() } }
        while true {
            let count = try await broker.consumerCount(queue)
            if count == expected || ContinuousClock.now - start >= limit { return (count, ContinuousClock.now - start) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
