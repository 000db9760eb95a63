import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// The operator's time limit is the ceiling; a publisher's `timelimit` header only lowers it.
struct TaskTimeLimitTests {
    let grace = Duration.seconds(5)

    @Test("no header: the queue's limit, hard = soft + grace; no queue limit: none")
    func queueOnly() {
        #expect(TaskTimeLimit.none.effective(queueLimit: .seconds(3), grace: grace) == TaskTimeLimit(hard: .seconds(8), soft: .seconds(3)))
        #expect(TaskTimeLimit.none.effective(queueLimit: nil, grace: grace) == .none)
    }

    @Test("a header cannot raise the operator's limit ([1e12, 1e12] against 3 s)")
    func ceiling() {
        let huge = TaskTimeLimit(hard: .seconds(1_000_000_000_000), soft: .seconds(1_000_000_000_000))
        #expect(huge.effective(queueLimit: .seconds(3), grace: grace) == TaskTimeLimit(hard: .seconds(8), soft: .seconds(3)))
    }

    @Test("a header may lower it, but not below the floor of 1 s (0.001 s killed a child per delivery)")
    func lowerWithFloor() {
        let lower = TaskTimeLimit(hard: .seconds(4), soft: .seconds(2))
        #expect(lower.effective(queueLimit: .seconds(10), grace: grace) == TaskTimeLimit(hard: .seconds(4), soft: .seconds(2)))
        let tiny = TaskTimeLimit(hard: .milliseconds(1), soft: .milliseconds(1))
        #expect(tiny.effective(queueLimit: nil, grace: grace) == TaskTimeLimit(hard: .seconds(1), soft: .seconds(1)))
        #expect(tiny.effective(queueLimit: .seconds(10), grace: grace) == TaskTimeLimit(hard: .seconds(1), soft: .seconds(1)))
    }

    @Test("without a queue limit the header's apply, as in Celery; a hard limit under the soft one is raised to it")
    func headerOnly() {
        #expect(
            TaskTimeLimit(hard: nil, soft: .seconds(2)).effective(queueLimit: nil, grace: grace)
                == TaskTimeLimit(hard: .seconds(7), soft: .seconds(2)))
        #expect(
            TaskTimeLimit(hard: .seconds(3), soft: nil).effective(queueLimit: nil, grace: grace)
                == TaskTimeLimit(hard: .seconds(3), soft: nil))
        #expect(
            TaskTimeLimit(hard: .seconds(2), soft: .seconds(5)).effective(queueLimit: nil, grace: grace)
                == TaskTimeLimit(hard: .seconds(5), soft: .seconds(5)))
    }

    @Test("a time_limit override's hard limit replaces soft + grace; a header still only lowers it")
    func overrideHard() {
        let grace = Duration.seconds(5)
        #expect(
            TaskTimeLimit.none.effective(queueLimit: .seconds(2), queueHard: .seconds(3), grace: grace)
                == TaskTimeLimit(hard: .seconds(3), soft: .seconds(2)))
        #expect(
            TaskTimeLimit.none.effective(queueLimit: nil, queueHard: .seconds(9), grace: grace)
                == TaskTimeLimit(hard: .seconds(9), soft: nil))
        #expect(
            TaskTimeLimit(hard: .seconds(100), soft: .seconds(100)).effective(queueLimit: nil, queueHard: .seconds(9), grace: grace)
                == TaskTimeLimit(hard: .seconds(9), soft: .seconds(9)))
    }
}
