import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// A child's stop decisions, in the orders that are hard to provoke with real processes.
struct ChildStopStateTests {
    @Test("first stop signal: stop taking tasks; second: exit now")
    func signals() {
        var state = ChildStopState()
        #expect(state.handle(.stopSignal) == [.stopTakingTasks])
        #expect(state.handle(.stopSignal) == [.exitNow])
    }

    @Test("supervisor gone while running: stop taking tasks and arm the deadline, once for both reports")
    func orphaned() {
        var state = ChildStopState()
        #expect(state.handle(.supervisorGone) == [.stopTakingTasks, .armDeadline])
        #expect(state.handle(.supervisorGone) == [])  // the pipe's end after the signal, or the other way round
        #expect(state.stopping && state.orphaned)
    }

    @Test("supervisor gone during a warm shutdown: only the deadline is new (nobody sends the second signal now)")
    func goneWhileStopping() {
        var state = ChildStopState()
        #expect(state.handle(.stopSignal) == [.stopTakingTasks])
        #expect(state.handle(.supervisorGone) == [.armDeadline])
        #expect(state.handle(.supervisorGone) == [])
    }

    @Test("a stop signal after the supervisor's death is not a second signal; a person's next one is")
    func signalAfterOrphaned() {
        var state = ChildStopState()
        _ = state.handle(.supervisorGone)
        #expect(state.handle(.stopSignal) == [])
        #expect(state.handle(.stopSignal) == [.exitNow])
    }
}
