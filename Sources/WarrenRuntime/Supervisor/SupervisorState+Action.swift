#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif

extension SupervisorState {
    /// One child process slot of the pool: the `slot`-th child of `queue` (1-based).
    struct SlotKey: Hashable, Comparable, Sendable, CustomStringConvertible {
        var queue: String
        var slot: Int

        init(queue: String, slot: Int) {
            self.queue = queue
            self.slot = slot
        }

        var description: String { "\(queue)#\(slot)" }

        static func < (a: SlotKey, b: SlotKey) -> Bool { (a.queue, a.slot) < (b.queue, b.slot) }
    }

    /// One child process, from the ``Action/spawn(_:_:)`` that asks for it to its exit. Never reused.
    struct ChildID: Hashable, Comparable, Sendable, CustomStringConvertible {
        var rawValue: Int

        init(_ rawValue: Int) { self.rawValue = rawValue }

        var description: String { "child \(rawValue)" }

        static func < (a: ChildID, b: ChildID) -> Bool { a.rawValue < b.rawValue }
    }

    /// What the I/O side must do after an event, in order.
    enum Action: Sendable, Equatable {
        /// Start a child process for `key`, then report ``SupervisorState/childStarted(_:now:)`` or
        /// ``SupervisorState/spawnFailed(_:now:)`` with `id`.
        case spawn(SlotKey, ChildID)
        /// Send `signal` to the child (a child that is gone already is no error).
        case signal(ChildID, Int32)
        /// Call ``SupervisorState/restartTimerFired(_:now:)`` for `key` after `after`.
        case scheduleRestart(SlotKey, after: Duration)
        /// Call ``SupervisorState/shutdownTimeoutPassed()`` after `after`.
        case scheduleShutdownTimeout(after: Duration)
        /// Call ``SupervisorState/killTimerFired()`` after `after`.
        case scheduleKill(after: Duration)
        /// Call ``SupervisorState/reloadStepTimedOut(_:)`` with `step` after `after`.
        case scheduleReloadStepTimeout(step: Int, after: Duration)
        /// Tell the child to cancel the handlers of these tasks (`K` ``TaskNotice``s).
        case cancelTasks(ChildID, [String])
        /// Call ``SupervisorState/terminateGraceOver(_:_:running:)`` for the child and tasks after `after`.
        case scheduleTerminateCheck(ChildID, [String], after: Duration)
        /// Write this answer to a deaths query to the child's control pipe.
        case answerDeaths(to: ChildID, SupervisorNotice)
        /// Read and validate the config file again, declare its topology, then report
        /// ``SupervisorState/reloadConfigured(_:now:)`` or ``SupervisorState/reloadRefused()``.
        case loadConfig
        /// Tell systemd (sd_notify).
        case notifySystemd(SystemdNote)
        /// Log a line and count what the metrics count.
        case note(Note)
        /// The supervisor is done: return this exit status.
        case finish(Int32)
    }

    /// A message to systemd.
    enum SystemdNote: Sendable, Equatable {
        /// `READY=1`, with how many children consume.
        case ready(consuming: Int, of: Int)
        /// `RELOADING=1`.
        case reloading
        /// `STOPPING=1`.
        case stopping
    }

    /// Why a child that died is restarted (the `reason` of `warren_child_restarts_total`).
    enum RestartCause: String, Sendable, Equatable {
        /// It exited by itself with a failure status (or with 0, unasked).
        case crashed
        /// A signal killed it.
        case killed
        /// The supervisor killed it at a task's hard time limit.
        case timeLimit = "time-limit"
    }

    /// Why the children are told to stop without finishing their tasks.
    enum StopReason: Sendable, Equatable {
        case secondSignal
        case shutdownTimeout(Duration)
    }

    /// Something worth a log line (and for some, a metric).
    enum Note: Sendable, Equatable {
        case childStarted(SlotKey, ChildID)
        case childConsuming(SlotKey, ChildID)
        case childDisconnected(SlotKey, ChildID)
        /// A child consumes again after it had lost its connection (`warren_broker_reconnects_total`).
        case childReconnected(SlotKey, ChildID)
        /// Every slot's child consumes, for the first time.
        case everyChildReady(children: Int)
        /// A child ended and is not replaced (shutting down, or replaced already by a reload).
        case childStopped(SlotKey, ChildID, ChildProcess.Exit, running: [String])
        /// A child recycled itself and its replacement starts now.
        case childRecycled(SlotKey, ChildID, reason: String, ChildProcess.Exit, running: [String])
        /// A child died and its slot restarts after `after`.
        case childRestarting(SlotKey, ChildID, RestartCause, ChildProcess.Exit, running: [String], after: Duration)
        /// A child ran a task past its hard time limit and is killed.
        case hardLimitKill(SlotKey, ChildID, tasks: [String])
        /// `revoke(terminate=True)`: the child running these tasks is killed.
        case terminating(SlotKey, ChildID, tasks: [String])
        /// `revoke(terminate=True)`: the child is told to cancel these tasks' handlers.
        case cancelling(SlotKey, ChildID, tasks: [String])
        /// A child killed for a terminating revoke ended; its slot starts again at once.
        case childTerminated(SlotKey, ChildID, ChildProcess.Exit, running: [String])
        case shuttingDown(children: Int)
        case stoppingNow(StopReason)
        case reloading
        /// The reload gave up waiting for a new child to consume and stops its predecessor anyway.
        case reloadStepNotReady(SlotKey)
        case reloaded(children: Int)
        /// A queue was paused; `stopping` of its children stop warmly.
        case queuePaused(String, stopping: Int)
        case queueResumed(String)
        /// `pool_grow` / `pool_shrink`: the queue has this many child slots now.
        case poolResized(String, children: Int)
    }
}
