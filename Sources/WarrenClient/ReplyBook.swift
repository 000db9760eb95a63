import WarrenCore

/// Who waits for which result, and the results nobody waits for yet: the bookkeeping of a
/// client's reply queue, apart from its I/O.
///
/// A reply may come before its caller asks for it (the handle is awaited later, or never): it is
/// kept, at most ``capacity`` of them, the oldest forgotten first, so replies nobody claims cannot
/// grow a long-running client without bound.
struct ReplyBook<Waiter> {
    /// The most unclaimed replies kept.
    let capacity: Int
    private var waiters: [String: [(token: Int, waiter: Waiter)]] = [:]
    private var unclaimed: [String: TaskReply] = [:]
    private var arrival: [String] = []
    private var arrivalStart = 0
    private var nextToken = 0
    /// Set once the client is closed: waits fail at once.
    private(set) var closed = false

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// What a new wait gets: the reply already here, or a token to cancel the wait with.
    enum Wait {
        case ready(TaskReply)
        case waiting(token: Int)
        case closed
    }

    /// Waits for the reply of task `id`: the reply at once when it came already (it is claimed:
    /// a second wait for it waits for another), else `waiter` is kept until ``deliver(_:for:)``.
    mutating func wait(for id: String, _ waiter: Waiter) -> Wait {
        if closed { return .closed }
        if let reply = unclaimed.removeValue(forKey: id) { return .ready(reply) }
        nextToken += 1
        waiters[id, default: []].append((nextToken, waiter))
        return .waiting(token: nextToken)
    }

    /// A reply came: the waiters to resume with it, or none (it is kept for a later wait).
    mutating func deliver(_ reply: TaskReply, for id: String) -> [Waiter] {
        if let waiting = waiters.removeValue(forKey: id) { return waiting.map(\.waiter) }
        if closed { return [] }
        if unclaimed.updateValue(reply, forKey: id) == nil { arrival.append(id) }
        while unclaimed.count > capacity, arrivalStart < arrival.count {
            unclaimed[arrival[arrivalStart]] = nil
            arrivalStart += 1
        }
        // Compact the arrival order once most of it is forgotten or claimed.
        if arrivalStart > 1024 && arrivalStart * 2 > arrival.count {
            arrival = arrival[arrivalStart...].filter { unclaimed[$0] != nil }
            arrivalStart = 0
        }
        return []
    }

    /// Stops one wait (timed out or cancelled): its waiter, if it still waited.
    mutating func cancel(_ id: String, token: Int) -> Waiter? {
        guard var waiting = waiters[id], let index = waiting.firstIndex(where: { $0.token == token }) else { return nil }
        let waiter = waiting.remove(at: index).waiter
        waiters[id] = waiting.isEmpty ? nil : waiting
        return waiter
    }

    /// Closes the book: every waiter, to fail; nothing is kept any more.
    mutating func close() -> [Waiter] {
        closed = true
        let all = waiters.values.flatMap { $0.map(\.waiter) }
        waiters = [:]
        unclaimed = [:]
        arrival = []
        arrivalStart = 0
        return all
    }

    /// How many replies wait to be claimed.
    var unclaimedCount: Int { unclaimed.count }
    /// How many callers wait.
    var waitingCount: Int { waiters.values.reduce(0) { $0 + $1.count } }
}
