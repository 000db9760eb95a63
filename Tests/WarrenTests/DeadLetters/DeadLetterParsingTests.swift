import AMQP
import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Dead letters: reading a delivery")
struct DeadLetterParsingTests {
    @Test("a Warren dead letter: every field from the x-warren-* headers, not from x-death or the delivery")
    func warrenHeaders() throws {
        let letter = DeadLetter(delivery: DeadLetterFixture.delivery(headers: DeadLetterFixture.warrenHeaders))
        #expect(letter.reason == "max-retries")
        #expect(letter.brokerReason == nil)
        #expect(letter.task == "demo.flaky")
        #expect(letter.taskID == CeleryFixture.taskID)
        #expect(letter.attempts == 3)
        #expect(letter.originalQueue == "default")
        #expect(letter.originalExchange == "warren")
        #expect(letter.originalRoutingKey == "demo.flaky")
        #expect(letter.errorType == "RuntimeError")
        #expect(letter.error == "demo.flaky failed on attempt 3, as asked")
        #expect(letter.firstFailure == CeleryTime.parse(DeadLetterFixture.firstFailedAt))
        #expect(letter.lastFailure == DeadLetterFixture.failedDate)
        #expect(letter.deadLetteredAt == DeadLetterFixture.failedDate)
        #expect(letter.deaths.count == 1)
        #expect(letter.age(now: DeadLetterFixture.failedDate.addingTimeInterval(90)) == .seconds(90))
    }

    @Test("x-death only: the newest entry gives reason, queue, exchange, routing key and time")
    func brokerDeadLettered() {
        let letter = DeadLetter(delivery: DeadLetterFixture.delivery(headers: DeadLetterFixture.brokerExpiredHeaders))
        #expect(letter.reason == "expired")
        #expect(letter.brokerReason == "expired")
        #expect(letter.task == "demo.add")
        #expect(letter.attempts == 1)  // the retries header: one attempt was made before it expired
        #expect(letter.originalQueue == "latency")
        #expect(letter.originalExchange == "warren")
        #expect(letter.originalRoutingKey == "demo.add")
        #expect(letter.error == nil && letter.errorType == nil)
        #expect(letter.deadLetteredAt == Date(timeIntervalSince1970: 1_740_823_300))
        #expect(letter.lastFailure == Date(timeIntervalSince1970: 1_740_823_300))
        #expect(letter.firstFailure == Date(timeIntervalSince1970: 1_740_823_200))  // the oldest entry
        #expect(letter.deaths.map(\.queue) == ["latency", "warren.wait.1000ms"])
        #expect(letter.deaths.first?.count == 1 && letter.deaths.first?.routingKeys == ["demo.add"])
    }

    @Test(
        "x-death reasons map to Warren's",
        arguments: [("expired", "expired"), ("rejected", "failed"), ("delivery_limit", "poison"), ("maxlen", "maxlen"), ("new", "new")])
    func brokerReasons(broker: String, ours: String) {
        let headers: AMQPTable = ["x-death": .array([.table(["reason": .string(broker), "queue": "q", "count": .int64(1)])])]
        let letter = DeadLetter(delivery: DeadLetterFixture.delivery(headers: headers))
        #expect(letter.reason == ours)
        #expect(letter.brokerReason == broker)
        #expect(letter.originalQueue == "q")
    }

    @Test("neither kind of header, from an exchange: unrouted; task = routing key; time = publish timestamp")
    func unrouted() {
        let plain = DeadLetterFixture.delivery(
            headers: nil, exchange: "warren", routingKey: "demo.nope", body: Array(#"{"a": 1}"#.utf8), timestamp: 1_740_823_000,
            correlationID: "plain-1")
        let letter = DeadLetter(delivery: plain)
        #expect(letter.reason == DeadLetter.unroutedReason)
        #expect(letter.brokerReason == nil)
        #expect(letter.task == "demo.nope")
        #expect(letter.taskID == "plain-1")
        #expect(letter.attempts == nil)
        #expect(letter.originalQueue == nil)
        #expect(letter.originalExchange == "warren" && letter.originalRoutingKey == "demo.nope")
        #expect(letter.deadLetteredAt == Date(timeIntervalSince1970: 1_740_823_000))
    }

    @Test("a Celery task in the unrouted queue: the task header wins over the routing key")
    func unroutedCelery() {
        let letter = DeadLetter(
            delivery: DeadLetterFixture.delivery(headers: CeleryFixture.headers(task: "demo.other"), exchange: "warren", routingKey: "x"))
        #expect(letter.reason == "unrouted")
        #expect(letter.task == "demo.other")
        #expect(letter.attempts == 0)
        #expect(letter.deadLetteredAt == nil)
        #expect(letter.age() == nil)
    }

    @Test("neither kind of header, straight into the queue: unknown, no task")
    func unknown() {
        let letter = DeadLetter(delivery: DeadLetterFixture.delivery(headers: ["foo": 1]))
        #expect(letter.reason == DeadLetter.unknownReason)
        #expect(letter.task == nil)
        #expect(letter.originalExchange == "" && letter.originalRoutingKey == "warren.dead")
    }

    @Test("headers of the wrong kind read as absent; void reads as absent")
    func wrongKinds() {
        let headers: AMQPTable = [
            "x-warren-reason": "failed", "x-warren-task": .void, "task": "demo.fail", "x-warren-attempts": "three",
            "x-warren-last-failure": "yesterday", "x-death": "not an array", "id": .int32(5),
        ]
        let letter = DeadLetter(delivery: DeadLetterFixture.delivery(headers: headers, correlationID: "c-1"))
        #expect(letter.reason == "failed")
        #expect(letter.task == "demo.fail")
        #expect(letter.attempts == nil)
        #expect(letter.deadLetteredAt == nil)
        #expect(letter.deaths.isEmpty)
        #expect(letter.taskID == "c-1")
    }

    @Test("every reason a dead letter can have is a known --reason")
    func knownReasons() {
        #expect(DeadLetter.knownReasons.contains("max-retries"))
        #expect(DeadLetter.knownReasons.contains("unrouted"))
        for broker in ["expired", "rejected", "delivery_limit", "maxlen"] {
            #expect(DeadLetter.knownReasons.contains(DeadLetter.reason(forBrokerReason: broker)))
        }
    }
}
