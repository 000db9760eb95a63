import AMQP
import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Dead letters: filters")
struct DeadLetterFilterTests {
    let letter = DeadLetter(delivery: DeadLetterFixture.delivery(headers: DeadLetterFixture.warrenHeaders))
    let now = DeadLetterFixture.failedDate.addingTimeInterval(2 * 3600)  // two hours after it failed

    @Test("an empty filter matches everything")
    func empty() {
        #expect(DeadLetterFilter().isEmpty)
        #expect(DeadLetterFilter().matches(letter, now: now))
        #expect(DeadLetterFilter().description == "(no filter)")
    }

    @Test("task: an exact name or a topic pattern")
    func task() {
        #expect(DeadLetterFilter(task: TopicPattern("demo.flaky")).matches(letter, now: now))
        #expect(DeadLetterFilter(task: TopicPattern("demo.*")).matches(letter, now: now))
        #expect(DeadLetterFilter(task: TopicPattern("#")).matches(letter, now: now))
        #expect(!DeadLetterFilter(task: TopicPattern("demo.fail")).matches(letter, now: now))
        let noTask = DeadLetter(delivery: DeadLetterFixture.delivery(headers: nil))
        #expect(!DeadLetterFilter(task: TopicPattern("#")).matches(noTask, now: now))
    }

    @Test("reason")
    func reason() {
        #expect(DeadLetterFilter(reason: "max-retries").matches(letter, now: now))
        #expect(!DeadLetterFilter(reason: "failed").matches(letter, now: now))
    }

    @Test("older-than: measured from when it was dead-lettered; an unknown time never matches")
    func olderThan() {
        #expect(DeadLetterFilter(olderThan: .seconds(3600)).matches(letter, now: now))
        #expect(DeadLetterFilter(olderThan: .seconds(7200)).matches(letter, now: now))
        #expect(!DeadLetterFilter(olderThan: .seconds(7201)).matches(letter, now: now))
        let timeless = DeadLetter(delivery: DeadLetterFixture.delivery(headers: ["x-warren-reason": "failed"]))
        #expect(!DeadLetterFilter(olderThan: .zero).matches(timeless, now: now))
    }

    @Test("every condition must hold")
    func combined() {
        let filter = DeadLetterFilter(task: TopicPattern("demo.flaky"), reason: "max-retries", olderThan: .seconds(60))
        #expect(filter.matches(letter, now: now))
        #expect(!DeadLetterFilter(task: TopicPattern("demo.flaky"), reason: "expired").matches(letter, now: now))
        #expect(filter.description == "--task demo.flaky --reason max-retries --older-than 1m")
    }
}
