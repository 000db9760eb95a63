import Foundation

/// Task ids revoked on this node (Celery's `revoke`), bounded as Celery's worker bounds them
/// (`LimitedSet`, celery/worker/state.py): at most ``maxCount`` ids, each forgotten
/// ``expiry`` after it was revoked, the oldest first when full. Time comes in as arguments.
struct RevokedTasks: Sendable, Equatable {
    /// Celery's `REVOKES_MAX`.
    static let maxCount = 50_000
    /// Celery's `REVOKE_EXPIRES`: 3 hours.
    static let expiry: TimeInterval = 10_800

    private var revokedAt: [String: Date] = [:]
    /// Ids in the order they were revoked (an id revoked again moves to the end: the stale
    /// entry is skipped when its time does not match).
    private var order: [(id: String, at: Date)] = []
    private var head = 0
    let maxCount: Int
    let expiry: TimeInterval

    init(maxCount: Int = RevokedTasks.maxCount, expiry: TimeInterval = RevokedTasks.expiry) {
        self.maxCount = maxCount
        self.expiry = expiry
    }

    static func == (a: RevokedTasks, b: RevokedTasks) -> Bool { a.revokedAt == b.revokedAt }

    /// How many ids are held.
    var count: Int { revokedAt.count }

    /// Records `ids` as revoked at `now`.
    mutating func insert(_ ids: some Sequence<String>, now: Date) {
        purge(now: now)
        for id in ids {
            revokedAt[id] = now
            order.append((id, now))
        }
        while revokedAt.count > maxCount, popOldest() {}
        compact()
    }

    /// Whether `id` is revoked (and not expired) at `now`.
    func contains(_ id: String, now: Date) -> Bool {
        guard let at = revokedAt[id] else { return false }
        return now.timeIntervalSince(at) < expiry
    }

    /// The ids held at `now`, oldest first.
    func ids(now: Date) -> [String] {
        order[head...].compactMap { entry in
            revokedAt[entry.id] == entry.at && now.timeIntervalSince(entry.at) < expiry ? entry.id : nil
        }
    }

    /// Forgets the ids that expired by `now`.
    mutating func purge(now: Date) {
        while head < order.count, now.timeIntervalSince(order[head].at) >= expiry {
            _ = popOldest()
        }
        compact()
    }

    private mutating func popOldest() -> Bool {
        guard head < order.count else { return false }
        let entry = order[head]
        head += 1
        if revokedAt[entry.id] == entry.at { revokedAt[entry.id] = nil }
        return true
    }

    private mutating func compact() {
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
