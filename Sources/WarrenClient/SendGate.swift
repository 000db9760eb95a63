/// Whether a client still takes sends, and how many are on their way to a confirm: a graceful
/// shutdown stops taking new sends and waits for those under way, so none is cut off before the
/// broker said whether it has it.
struct SendGate<Waiter> {
    private(set) var accepting = true
    private(set) var inFlight = 0
    private var drainWaiters: [Waiter] = []

    /// A send begins; `false` once the client is closing.
    mutating func enter() -> Bool {
        guard accepting else { return false }
        inFlight += 1
        return true
    }

    /// A send ended: the waiters to resume when it was the last one of a closing client.
    mutating func leave() -> [Waiter] {
        inFlight -= 1
        guard !accepting, inFlight == 0 else { return [] }
        defer { drainWaiters = [] }
        return drainWaiters
    }

    /// Stops taking sends. Returns `true` when none is under way; otherwise keeps `waiter`, to
    /// be resumed by the ``leave()`` of the last one.
    mutating func close(_ waiter: Waiter) -> Bool {
        accepting = false
        if inFlight == 0 { return true }
        drainWaiters.append(waiter)
        return false
    }
}
