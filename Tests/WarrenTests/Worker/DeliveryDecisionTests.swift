import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// A child's per-delivery decisions, without a broker or a clock (``DeliveryIntake``,
/// ``CompletionDecision``).
@Suite("Delivery decisions")
struct DeliveryDecisionTests {
    static let now = Date(timeIntervalSinceReferenceDate: 0)  // 2001-01-01T00:00:00+00:00
    static let task = TaskMessage(name: "demo.add", id: "id-1", retries: 2, now: now)

    static func intake(redelivered: Bool = false, _ type: QueueType = .classic, count: Int? = nil) -> DeliveryIntake {
        DeliveryIntake(redelivered: redelivered, queueType: type, deliveryCount: count)
    }

    static func workerLost(_ reason: DeadLetterReason, _ text: String, _ cause: DeadLetterPlan.Cause) -> DeliveryDecision {
        .deadLetter(
            DeadLetterPlan(
                reason: reason, errorType: "WorkerLostError", message: text, task: "demo.add", attempts: 3,
                reply: FailureReply(
                    exception: CeleryException(type: "WorkerLostError", module: "billiard.exceptions", message: text), state: .failure),
                cause: cause))
    }

    static let unknown = DeliveryDecision.deadLetter(
        DeadLetterPlan(
            reason: .unknownTask, errorType: "NotRegistered", message: "no task named \"demo.add\" is registered in this worker",
            task: "demo.add", attempts: 2,
            reply: FailureReply(
                exception: CeleryException(type: "NotRegistered", module: "celery.exceptions", message: "demo.add"), state: .failure),
            cause: .unknownTask))

    // MARK: - Before the handler runs

    @Test("a stopping child requeues whatever the delivery is (poison count, anything); else it goes on")
    func stoppingWins() {
        for intake in [
            Self.intake(), Self.intake(redelivered: true, .quorum, count: .max), Self.intake(redelivered: true, .classic, count: 99),
        ] {
            #expect(intake.received(stopping: true) == .requeue)
            #expect(intake.received(stopping: false) == .proceed)
        }
    }

    @Test("stopping, or a dead connection, while waiting for a slot: requeued, not run")
    func slotAcquired() {
        let intake = Self.intake()
        #expect(intake.slotAcquired(stopping: true, connectionFailed: false) == .requeue)
        #expect(intake.slotAcquired(stopping: false, connectionFailed: true) == .requeue)
        #expect(intake.slotAcquired(stopping: true, connectionFailed: true) == .requeue)
        #expect(intake.slotAcquired(stopping: false, connectionFailed: false) == .proceed)
    }

    @Test("a message that cannot be decoded: malformed, attempts 0, no reply, named by its header or routing key")
    func undecodable() {
        let error = EnvelopeError(.invalidHeader, "header 'retries' must be an integer, got string \"3\"", taskID: "abc")
        #expect(
            Self.intake(redelivered: true, .quorum, count: 50).undecodable(error, name: "demo.add")
                == .deadLetter(
                    DeadLetterPlan(
                        reason: .malformed, errorType: "EnvelopeError", message: "header 'retries' must be an integer, got string \"3\"",
                        task: "demo.add", attempts: 0, reply: nil, cause: .undecodable(taskID: "abc"))))
        #expect(
            Self.intake().undecodable(EnvelopeError(.invalidJSON, "bad"), name: "q")
                == .deadLetter(
                    DeadLetterPlan(
                        reason: .malformed, errorType: "EnvelopeError", message: "bad", task: "q", attempts: 0, reply: nil,
                        cause: .undecodable(taskID: nil))))
    }

    @Test("a quorum redelivery counted at the limit is poison; one below asks the supervisor")
    func quorumLimit() {
        #expect(
            Self.intake(redelivered: true, .quorum, count: quorumRedeliveryLimit).decoded(Self.task)
                == Self.workerLost(
                    .poison, "the broker delivered the task 11 times without it being acknowledged", .deliveredTooOften(deliveries: "11")))
        #expect(Self.intake(redelivered: true, .quorum, count: quorumRedeliveryLimit - 1).decoded(Self.task) == .askDeaths)
        #expect(
            Self.intake(redelivered: true, .quorum, count: .max).decoded(Self.task)
                == Self.workerLost(
                    .poison, "the broker delivered the task more than 9223372036854775807 times without it being acknowledged",
                    .deliveredTooOften(deliveries: "more than 9223372036854775807")))
    }

    @Test("the delivery count counts only on a quorum queue's redelivery; only a redelivery asks for deaths")
    func deliveryCountScope() {
        #expect(Self.intake(redelivered: true, .classic, count: 50).decoded(Self.task) == .askDeaths)
        #expect(Self.intake(redelivered: true, .quorum, count: nil).decoded(Self.task) == .askDeaths)
        #expect(Self.intake(redelivered: false, .quorum, count: 50).decoded(Self.task) == .proceed)
        #expect(Self.intake(redelivered: false).decoded(Self.task) == .proceed)
    }

    @Test("deaths at the threshold: time-limit when the last kill was at the hard limit, else poison; below it runs")
    func deaths() {
        let intake = Self.intake(redelivered: true)
        #expect(
            intake.deathsAnswered(TaskDeaths(count: poisonThreshold, reason: .timeLimit), task: Self.task)
                == Self.workerLost(
                    .timeLimit, "the task was running when its worker process died 3 times (killed at the hard time limit)",
                    .killedChild(deaths: 3)))
        #expect(
            intake.deathsAnswered(TaskDeaths(count: poisonThreshold, reason: .poison), task: Self.task)
                == Self.workerLost(.poison, "the task was running when its worker process died 3 times (crashed)", .killedChild(deaths: 3)))
        #expect(
            intake.deathsAnswered(TaskDeaths(count: 7, reason: .failed), task: Self.task)
                == Self.workerLost(.poison, "the task was running when its worker process died 7 times (crashed)", .killedChild(deaths: 7)))
        #expect(intake.deathsAnswered(TaskDeaths(count: poisonThreshold - 1, reason: .timeLimit), task: Self.task) == .proceed)
        #expect(intake.deathsAnswered(nil, task: Self.task) == .proceed)
    }

    @Test("an unknown task: NotRegistered reply, attempts = retries")
    func unknownTask() {
        #expect(Self.intake().checked(Self.task, registered: false, now: Self.now) == Self.unknown)
    }

    @Test("an expired task: TaskRevokedError reply with state REVOKED; expiring exactly now still runs")
    func expired() {
        var task = Self.task
        task.expires = Self.now.addingTimeInterval(-1)
        #expect(
            Self.intake().checked(task, registered: true, now: Self.now)
                == .deadLetter(
                    DeadLetterPlan(
                        reason: .expired, errorType: "TaskRevokedError",
                        message: "the task expired at 2000-12-31T23:59:59+00:00 before it could run", task: "demo.add", attempts: 2,
                        reply: FailureReply(
                            exception: CeleryException(type: "TaskRevokedError", module: "celery.exceptions", message: "expired"),
                            state: .revoked),
                        cause: .expired(task.expires!))))
        task.expires = Self.now
        #expect(Self.intake().checked(task, registered: true, now: Self.now) == .run(after: .zero))
    }

    @Test("a task both expired and unknown is dead-lettered as unknown; expired wins over a far eta")
    func orderOfChecks() {
        var task = Self.task
        task.expires = Self.now.addingTimeInterval(-1)
        task.eta = Self.now.addingTimeInterval(3600)
        #expect(Self.intake().checked(task, registered: false, now: Self.now) == Self.unknown)
        #expect(
            Self.intake().checked(task, registered: true, now: Self.now)
                == .deadLetter(
                    DeadLetterPlan(
                        reason: .expired, errorType: "TaskRevokedError",
                        message: "the task expired at 2000-12-31T23:59:59+00:00 before it could run", task: "demo.add", attempts: 2,
                        reply: FailureReply(
                            exception: CeleryException(type: "TaskRevokedError", module: "celery.exceptions", message: "expired"),
                            state: .revoked),
                        cause: .expired(task.expires!))))
    }

    @Test("an eta exactly 100 ms ahead waits in the broker; just under waits in memory; past or none runs at once")
    func etaBoundary() {
        var task = Self.task
        task.eta = Date(timeIntervalSinceReferenceDate: 0.1)
        #expect(task.eta!.timeIntervalSince(Self.now) * 1000 == 100)  // the boundary itself, exactly
        #expect(Self.intake().checked(task, registered: true, now: Self.now) == .sendToWait(until: task.eta!))
        task.eta = Date(timeIntervalSinceReferenceDate: 0.099)
        #expect(Self.intake().checked(task, registered: true, now: Self.now) == .run(after: .seconds(0.099)))
        task.eta = Date(timeIntervalSinceReferenceDate: 3600)
        #expect(Self.intake().checked(task, registered: true, now: Self.now) == .sendToWait(until: task.eta!))
        task.eta = Self.now
        #expect(Self.intake().checked(task, registered: true, now: Self.now) == .run(after: .zero))
        task.eta = Self.now.addingTimeInterval(-5)
        #expect(Self.intake().checked(task, registered: true, now: Self.now) == .run(after: .zero))
        #expect(Self.intake().checked(Self.task, registered: true, now: Self.now) == .run(after: .zero))
    }

    // MARK: - After the handler

    struct Boom: Error {}

    /// 3 attempts; 1 s doubling, ±20 %.
    static let policy = RetryPolicy(maxAttempts: 3, backoff: .init(initial: .seconds(1), multiplier: 2, max: .seconds(300), jitter: 0.2))

    static func decide(_ result: Result<JSONValue, any Error>, attempt: Int, random: Double = 0.5) -> (CompletionDecision, draws: Int) {
        var draws = 0
        let decision = CompletionDecision(result, attempt: attempt, policy: policy) {
            draws += 1
            return random
        }
        return (decision, draws)
    }

    @Test("success is acked")
    func success() {
        #expect(Self.decide(.success(.null), attempt: 3) == (.ack, 0))
    }

    @Test("TaskError.fail is failed, even when retries remain")
    func fail() {
        #expect(Self.decide(.failure(TaskError.fail("no")), attempt: 1) == (.deadLetter(.failed), 0))
    }

    @Test("arguments that do not fit the handler are malformed, even when retries remain")
    func malformedArguments() {
        #expect(Self.decide(.failure(EnvelopeError(.invalidArguments, "missing 'a'")), attempt: 1) == (.deadLetter(.malformed), 0))
    }

    @Test("TaskError.retry uses its own delay (no random draw), or the policy's when it names none")
    func retryRequested() {
        #expect(
            Self.decide(.failure(TaskError.retry(after: .seconds(30))), attempt: 1)
                == (.retry(after: .seconds(30), ifUnsendable: .malformed), 0))
        #expect(Self.decide(.failure(TaskError.retry()), attempt: 2) == (.retry(after: .seconds(2), ifUnsendable: .malformed), 1))
    }

    @Test("TaskError.retry on the last attempt is max-retries")
    func retryOnLastAttempt() {
        #expect(Self.decide(.failure(TaskError.retry(after: .seconds(30))), attempt: 3) == (.deadLetter(.maxRetries), 0))
    }

    @Test("any other error: retried on the attempt before the last (jitter from the random source), max-retries on the last")
    func otherError() {
        #expect(Self.decide(.failure(Boom()), attempt: 2, random: 0.5) == (.retry(after: .seconds(2), ifUnsendable: .malformed), 1))
        #expect(Self.decide(.failure(Boom()), attempt: 2, random: 0) == (.retry(after: .milliseconds(1600), ifUnsendable: .malformed), 1))
        #expect(Self.decide(.failure(Boom()), attempt: 2, random: 1) == (.retry(after: .milliseconds(2400), ifUnsendable: .malformed), 1))
        #expect(Self.decide(.failure(Boom()), attempt: 3) == (.deadLetter(.maxRetries), 0))
        #expect(Self.decide(.failure(Boom()), attempt: 4) == (.deadLetter(.maxRetries), 0))
    }

    @Test("a soft time limit is retried like a failure, and time-limit on the last attempt")
    func timeLimit() {
        let error = TimeLimitExceeded(limit: .seconds(5))
        #expect(Self.decide(.failure(error), attempt: 1) == (.retry(after: .seconds(1), ifUnsendable: .malformed), 1))
        #expect(Self.decide(.failure(error), attempt: 3) == (.deadLetter(.timeLimit), 0))
    }

    @Test("a policy of one attempt never retries")
    func singleAttempt() {
        let policy = RetryPolicy(maxAttempts: 1)
        #expect(CompletionDecision(failure: Boom(), attempt: 1, policy: policy) { 0.5 } == .deadLetter(.maxRetries))
        #expect(
            CompletionDecision(failure: TimeLimitExceeded(limit: .seconds(1)), attempt: 1, policy: policy) { 0.5 }
                == .deadLetter(.timeLimit))
    }
}
