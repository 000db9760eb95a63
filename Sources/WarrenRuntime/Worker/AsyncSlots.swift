import Synchronization

/// A counting semaphore for async code: at most `limit` holders at once, waiters served in
/// order. The child worker uses it to run at most `concurrency` handlers.
final class AsyncSlots: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
        var held = 0
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    init(_ limit: Int) {
        precondition(limit > 0)
        state = Mutex(State(available: limit))
    }

    /// Waits for a free slot and takes it.
    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { s -> Bool in
                if s.available > 0 {
                    s.available -= 1
                    s.held += 1
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    /// Gives a slot back (to the longest waiter, if any).
    func release() {
        let (next, idle) = state.withLock { s -> (CheckedContinuation<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            if !s.waiters.isEmpty { return (s.waiters.removeFirst(), []) }
            s.available += 1
            s.held -= 1
            if s.held == 0 {
                defer { s.idleWaiters = [] }
                return (nil, s.idleWaiters)
            }
            return (nil, [])
        }
        next?.resume()
        idle.forEach { $0.resume() }
    }
}

/// Counts work in flight and lets one wait until there is none (warm shutdown).
final class InFlight: Sendable {
    private let state = Mutex<(count: Int, waiters: [CheckedContinuation<Void, Never>])>((0, []))

    func enter() { state.withLock { $0.count += 1 } }

    func leave() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.count -= 1
            guard s.count == 0 else { return [] }
            defer { s.waiters = [] }
            return s.waiters
        }
        waiters.forEach { $0.resume() }
    }

    var count: Int { state.withLock { $0.count } }

    /// Returns once nothing is in flight.
    func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { s -> Bool in
                if s.count == 0 { return true }
                s.waiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }
}
