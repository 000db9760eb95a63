import AMQP
import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Dead letters: replay plans")
struct DeadLetterReplayTests {
    let replay = DeadLetterReplay(
        exchange: "warren",
        bindings: [QueueBinding(queue: "default", routingKey: "demo.flaky"), QueueBinding(queue: "latency", routingKey: "demo.add")])

    @Test("headers: x-warren-*, x-death, x-first-death-*, warren-wait and a past eta go; retries is 0; the rest stays in order")
    func cleanedHeaders() throws {
        let now = DeadLetterFixture.failedDate
        let cleaned = try #require(DeadLetterReplay.replayHeaders(DeadLetterFixture.warrenHeaders, now: now))
        #expect(cleaned.keys.allSatisfy { !$0.hasPrefix("x-") && $0 != "warren-wait" })
        #expect(cleaned["eta"] == nil)
        #expect(cleaned["retries"] == .int32(0))
        let celeryKeys = CeleryFixture.headers().keys.filter { $0 != "eta" }
        #expect(cleaned.keys == celeryKeys)
        #expect(cleaned["id"] == .string(CeleryFixture.taskID))
    }

    @Test("an eta still ahead is kept; a void retries stays void; no headers stay none")
    func keptHeaders() throws {
        let headers: AMQPTable = ["eta": "2099-01-01T00:00:00+00:00", "retries": .void, "x-last-death-queue": "q"]
        let cleaned = try #require(DeadLetterReplay.replayHeaders(headers, now: Date()))
        #expect(cleaned.entries.map(\.key) == ["eta", "retries"])
        #expect(cleaned["retries"] == .void)
        #expect(DeadLetterReplay.replayHeaders(nil) == nil)
    }

    @Test("a bound task goes to the exchange with routing key = task name; body and other properties unchanged")
    func boundTask() throws {
        let letter = DeadLetter(delivery: DeadLetterFixture.delivery(headers: DeadLetterFixture.warrenHeaders, correlationID: "c"))
        guard case .republish(let route, let properties, let queue) = replay.plan(for: letter, now: DeadLetterFixture.failedDate) else {
            Issue.record("expected a republish")
            return
        }
        #expect(route == DeadLetterRoute(exchange: "warren", routingKey: "demo.flaky"))
        #expect(queue == "default")
        #expect(properties.correlationID == "c" && properties.contentType == "application/json")
        #expect(properties.headers?["x-warren-reason"] == nil)
        #expect(properties.headers?["retries"] == .int32(0))
    }

    @Test("an unrouted plain message is replayed by its routing key once bound")
    func unroutedPlain() {
        let letter = DeadLetter(delivery: DeadLetterFixture.delivery(headers: nil, exchange: "warren", routingKey: "demo.add"))
        guard case .republish(let route, let properties, _) = replay.plan(for: letter) else {
            Issue.record("expected a republish")
            return
        }
        #expect(route.routingKey == "demo.add")
        #expect(properties.headers == nil)
    }

    @Test("a task no binding knows, or no task at all, is skipped with the reason")
    func skipped() {
        let unbound = DeadLetter(delivery: DeadLetterFixture.delivery(headers: nil, exchange: "warren", routingKey: "demo.nope"))
        guard case .skip(let why) = replay.plan(for: unbound) else {
            Issue.record("expected a skip")
            return
        }
        #expect(why.contains("demo.nope") && why.contains("no binding"))
        let anonymous = DeadLetter(delivery: DeadLetterFixture.delivery(headers: nil))
        guard case .skip(let why2) = replay.plan(for: anonymous) else {
            Issue.record("expected a skip")
            return
        }
        #expect(why2.contains("no task name"))
    }
}
