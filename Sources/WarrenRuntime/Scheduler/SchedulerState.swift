import Foundation
import WarrenCore

/// Every decision of one supervisor's scheduler on one broker connection, as a value: which
/// tokens it holds, what it merges, what it publishes and acknowledges, what it fires and when it
/// looks again. ``Scheduler`` feeds it what the broker delivers and answers, and performs its
/// actions; a new connection starts with a new state.
///
/// **Election.** Every supervisor consumes the scheduler queue, a quorum queue with
/// `x-single-active-consumer`, so the broker delivers to one consumer only: the first token
/// delivered makes this node the leader, for as long as its connection lives. When the leader's
/// connection goes (a crash, a lost host, a shutdown), the broker gives its unacknowledged tokens
/// to the next consumer.
///
/// **Firing.** To fire a tick the leader publishes a new token with that tick as the schedule's
/// last fire, and only once the broker confirmed it acknowledges the tokens it merged and
/// publishes the task (``Action/fire(_:)``). A leader that dies between the two has recorded a
/// tick it did not fire: the tick is skipped, never fired twice. Tokens that meet (two from a
/// bootstrap race, an old one given back after its holder died while the new one was on its way)
/// are merged, latest tick per schedule, into the next token.
///
/// **Refresh.** A delivery left unacknowledged for the broker's `consumer_timeout` (30 min by
/// default) gets its channel closed, so the leader writes its token again every
/// ``refreshInterval`` even when nothing fires.
struct SchedulerState {
    /// A tick to publish, once the token recording it was confirmed.
    struct Fire: Sendable, Hashable {
        /// The schedule's name.
        var schedule: String
        /// The tick.
        var tick: Date
        /// When the fire's message expires.
        var expiresAt: Date
    }

    /// What the I/O side must do, in order.
    enum Action: Sendable, Equatable {
        /// Publish this token to the scheduler queue with a confirm, then report
        /// ``SchedulerState/tokenWritten(id:now:)`` (or end the connection if it was not confirmed).
        case writeToken(ScheduleToken)
        /// Acknowledge these deliveries of the scheduler queue.
        case ack([UInt64])
        /// Publish the task of this fire, with a confirm.
        case fire(Fire)
        /// Call ``SchedulerState/timerFired(now:)`` at this time (replacing any earlier wake-up).
        case wake(at: Date)
        /// This node leads from now on.
        case becameLeader(heldBy: String?)
        /// A delivery of the scheduler queue was not a token; it is acknowledged with the next write.
        case foreignMessage(tag: UInt64)
    }

    /// The write under way: a token published, its confirm awaited.
    private struct PendingWrite {
        var token: ScheduleToken
        /// The deliveries it replaces, acknowledged once it is confirmed.
        var replaces: Set<UInt64>
        var fires: [Fire]
    }

    /// How often the leader writes its token when nothing fires.
    static let defaultRefreshInterval: Duration = .seconds(60)

    let schedules: [ScheduleConfig]
    /// How this node signs its tokens: `warren@host pid 123`.
    let node: String
    let refreshInterval: Duration
    /// Makes the ids of this node's tokens.
    private let makeID: @Sendable () -> String

    /// Whether a token was delivered on this connection: then this node leads.
    private(set) var isLeader = false
    private var leadingSince: Date?
    /// Tokens delivered and not yet acknowledged, by delivery tag (`nil`: not a token).
    private var held: [UInt64: ScheduleToken?] = [:]
    /// The last fired tick per schedule, merged from every token seen and every fire confirmed.
    private(set) var lastFired: [String: Int64] = [:]
    /// The id of this node's last confirmed token, and its delivery tag once it came back.
    private var own: (id: String, tag: UInt64?)?
    private var pending: PendingWrite?
    private var lastWrite: Date?

    init(
        schedules: [ScheduleConfig], node: String, refreshInterval: Duration = SchedulerState.defaultRefreshInterval,
        makeID: @escaping @Sendable () -> String = { TaskMessage.newID() }
    ) {
        self.schedules = schedules
        self.node = node
        self.refreshInterval = refreshInterval
        self.makeID = makeID
    }

    /// The write under way, if any (for tests).
    var pendingTokenID: String? { pending?.token.id }
    /// The deliveries held now (for tests).
    var heldTags: Set<UInt64> { Set(held.keys) }

    // MARK: - Events

    /// The broker delivered a message of the scheduler queue.
    mutating func tokenDelivered(tag: UInt64, body: [UInt8], now: Date) -> [Action] {
        var actions: [Action] = []
        let token = ScheduleToken(decoding: body)
        if !isLeader {
            isLeader = true
            leadingSince = now
            actions.append(.becameLeader(heldBy: token?.writer))
        }
        held[tag] = .some(token)
        if token == nil { actions.append(.foreignMessage(tag: tag)) }
        if let token {
            lastFired = ScheduleToken.merge(lastFired, token.lastFired)
            if token.id == own?.id { own?.tag = tag }
        }
        return actions + decide(now: now)
    }

    /// The broker confirmed the token of ``Action/writeToken(_:)``.
    mutating func tokenWritten(id: String, now: Date) -> [Action] {
        guard let write = pending, write.token.id == id else { return [] }
        pending = nil
        lastWrite = now
        lastFired = ScheduleToken.merge(lastFired, write.token.lastFired)
        // The new token may have come back before its confirm.
        let back = held.first { $0.value?.id == id }?.key
        own = (id, back)
        let acks = write.replaces.filter { held[$0] != nil }.sorted()
        for tag in acks { held[tag] = nil }
        var actions: [Action] = acks.isEmpty ? [] : [.ack(acks)]
        actions += write.fires.map(Action.fire)
        return actions + decide(now: now)
    }

    /// The wake-up of ``Action/wake(at:)`` is due.
    mutating func timerFired(now: Date) -> [Action] {
        decide(now: now)
    }

    // MARK: - Deciding

    /// What to write now, if anything, and when to look again.
    private mutating func decide(now: Date) -> [Action] {
        guard isLeader, pending == nil, let leadingSince else { return [] }
        var fires: [Fire] = []
        var wake: Date?
        var ticks = lastFired
        for schedule in schedules {
            let plan = FirePlan(
                timing: schedule.timing, now: now, lastFired: lastFired[schedule.name].map(ScheduleToken.date),
                leadingSince: leadingSince, expires: schedule.expires)
            if let fire = plan.fire {
                fires.append(Fire(schedule: schedule.name, tick: fire.tick, expiresAt: fire.expiresAt))
                ticks[schedule.name] = ScheduleToken.milliseconds(fire.tick)
            }
            if let next = plan.wakeAt { wake = min(wake ?? next, next) }
        }
        // Tokens other than this node's latest are merged into the next one and acknowledged.
        let others = held.keys.filter { $0 != own?.tag }
        let refreshAt = lastWrite.map { $0.addingTimeInterval(refreshInterval.seconds) }
        let refreshDue = own?.tag != nil && (refreshAt.map { now >= $0 } ?? true)
        var actions: [Action] = []
        if !fires.isEmpty || !others.isEmpty || refreshDue {
            let token = ScheduleToken(id: makeID(), writer: node, writtenAt: ScheduleToken.milliseconds(now), lastFired: ticks)
            pending = PendingWrite(token: token, replaces: Set(held.keys), fires: fires)
            actions.append(.writeToken(token))
        } else if let refreshAt {
            wake = min(wake ?? refreshAt, refreshAt)
        }
        if let wake { actions.append(.wake(at: wake)) }
        return actions
    }
}
