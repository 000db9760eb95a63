/// When and how a child process stops, decided apart from signals, pipes and threads.
///
/// Two kinds of event stop a child:
/// - a **stop signal** (SIGTERM, SIGINT), from its supervisor's warm shutdown, a reload or a
///   person: the first stops it taking tasks (running ones finish, prefetched ones go back),
///   a second makes it exit at once;
/// - its **supervisor's death**, learnt from the ``Lifeline``: it stops taking tasks, and since
///   nobody enforces `shutdown_timeout` or time limits any more, it arms its own deadline. The
///   death is reported twice (the parent-death signal and the end of the supervisor's pipe, in
///   either order); the second report changes nothing, and neither counts as a second signal.
struct ChildStopState: Sendable, Equatable {
    enum Event: Sendable, Equatable {
        case stopSignal
        case supervisorGone
    }

    enum Action: Sendable, Equatable {
        /// Stop taking deliveries; let running handlers finish and settle; then exit 0.
        case stopTakingTasks
        /// Exit within `shutdown_timeout` even if handlers still run (their messages go back).
        case armDeadline
        /// Exit now; the broker requeues what was not acknowledged.
        case exitNow
    }

    private(set) var stopping = false
    private(set) var signals = 0
    private(set) var orphaned = false

    init() {}

    /// Takes `event`; returns what to do, in order.
    mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .stopSignal:
            signals += 1
            if signals >= 2 { return [.exitNow] }
            if stopping { return [] }  // orphaned already: the deadline runs
            stopping = true
            return [.stopTakingTasks]
        case .supervisorGone:
            if orphaned { return [] }
            orphaned = true
            defer { stopping = true }
            return stopping ? [.armDeadline] : [.stopTakingTasks, .armDeadline]
        }
    }
}
