import AMQP
import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// What Warren writes back on a task's settle path is bounded, and every integer it reads from
/// the wire is range-checked, whatever a message carries (issue 12: hostile input).
@Suite("Settle path bounds")
struct SettlePathBoundsTests {
    static let frameMax = 131_072

    static func delivery(headers: AMQPTable) -> AMQPDelivery {
        CeleryFixture.delivery(properties: CeleryFixture.properties(headers: headers))
    }

    // MARK: - Error text

    @Test("error text that fits is left alone")
    func shortTextUnchanged() {
        #expect(ErrorText.bounded("boom") == "boom")
        let exact = String(repeating: "x", count: ErrorText.maxBytes)
        #expect(ErrorText.bounded(exact) == exact)
    }

    @Test("a 200,000-character error is cut to 4 KiB with a marker saying how long it was")
    func longTextCut() {
        let text = ErrorText.bounded(String(repeating: "e", count: 200_000))
        #expect(text.utf8.count <= ErrorText.maxBytes)
        #expect(text.hasPrefix("eeee"))
        #expect(text.hasSuffix("… [cut: 200000 bytes in all]"))
    }

    @Test("text is cut on a character boundary, never inside a multi-byte character", arguments: ["é", "✓", "👍🏽", "e\u{301}"])
    func cutOnCharacterBoundary(_ unit: String) {
        for limit in [40, 41, 42, 43, 64, 100] {
            let text = ErrorText.bounded(String(repeating: unit, count: 500), maxBytes: limit)
            #expect(text.utf8.count <= limit)
            #expect(text.hasSuffix("bytes in all]"))
            let kept = text.prefix { $0 != "…" }
            #expect(kept.allSatisfy { String($0) == unit }, "limit \(limit): \(text)")
        }
    }

    // MARK: - Dead-letter headers

    @Test("the dead-letter headers Warren adds are bounded whatever the message carried")
    func deadLetterHeadersBounded() {
        var original = CeleryFixture.headers()
        original[DeadLetterHeaders.exchange] = .string(String(repeating: "x", count: 300))  // could never route
        let delivery = Self.delivery(headers: original)
        let headers = DeadLetterHeaders.adding(
            to: original, reason: .failed, errorType: String(repeating: "T", count: 10_000),
            message: String(repeating: "e", count: 200_000), task: String(repeating: "n", count: 130_000), queue: "celery",
            delivery: delivery, attempts: 1)
        #expect(headers[DeadLetterHeaders.errorMessage]?.stringValue?.utf8.count ?? .max <= ErrorText.maxBytes)
        #expect(headers[DeadLetterHeaders.errorType]?.stringValue?.utf8.count ?? .max <= DeadLetterHeaders.maxNameBytes)
        #expect(headers[DeadLetterHeaders.task]?.stringValue?.utf8.count ?? .max <= DeadLetterHeaders.maxNameBytes)
        #expect(headers[DeadLetterHeaders.exchange] == .string(delivery.exchange))
        var properties = delivery.properties
        properties.headers = headers
        #expect(properties.fits(frameMax: 8192))
    }

    @Test("a dead letter too large for a frame leaves out its largest original headers, and only those")
    func fittingDropsLargestFirst() throws {
        var original = CeleryFixture.headers()
        original["pad"] = .string(String(repeating: "p", count: 130_900))
        original["extra"] = .string(String(repeating: "x", count: 1000))
        let delivery = Self.delivery(headers: original)
        var properties = delivery.properties
        properties.headers = DeadLetterHeaders.adding(
            to: original, reason: .malformed, errorType: "EnvelopeError", message: "boom", task: "demo.add", queue: "celery",
            delivery: delivery, attempts: 1)
        #expect(!properties.fits(frameMax: Self.frameMax))
        let fitted = try #require(DeadLetterHeaders.fitting(properties, frameMax: Self.frameMax))
        #expect(fitted.fits(frameMax: Self.frameMax))
        let headers = try #require(fitted.headers)
        #expect(headers["pad"] == nil)
        #expect(headers["extra"] != nil && headers["id"] == .string(CeleryFixture.taskID) && headers["task"] == "demo.add")
        #expect(headers[DeadLetterHeaders.droppedHeaders] == "pad")
        #expect(headers[DeadLetterHeaders.reason] == "malformed" && headers[DeadLetterHeaders.errorMessage] == "boom")
        #expect(fitted.correlationID == properties.correlationID && fitted.replyTo == properties.replyTo)
    }

    @Test("a dead letter that fits is unchanged; one whose own reasons cannot fit gets nil")
    func fittingEdges() {
        let delivery = Self.delivery(headers: CeleryFixture.headers())
        #expect(DeadLetterHeaders.fitting(delivery.properties, frameMax: Self.frameMax) == delivery.properties)
        var properties = delivery.properties
        // Warren's own reasons are never left out (the error at its bound, 4 KiB)...
        properties.headers = ["x-warren-error": .string(String(repeating: "e", count: 4096))]
        #expect(DeadLetterHeaders.fitting(properties, frameMax: 4096) == nil)
        // ...but an x-warren- header larger than any Warren writes is the client's, and can go.
        properties.headers = ["x-warren-error": .string(String(repeating: "e", count: 5000))]
        #expect(DeadLetterHeaders.fitting(properties, frameMax: 4096)?.headers?[DeadLetterHeaders.droppedHeaders] == "x-warren-error")
    }

    @Test("the minimal dead letter fits the smallest frame a broker allows, whatever the message carried")
    func minimalFitsAnyFrame() throws {
        var original = CeleryFixture.headers()
        original["pad"] = .string(String(repeating: "p", count: 130_900))
        let delivery = Self.delivery(headers: original)
        let minimal = DeadLetterHeaders.minimal(
            delivery.properties, id: String(repeating: "i", count: 300), reason: .failed, errorType: String(repeating: "T", count: 999),
            message: String(repeating: "e", count: 200_000), task: String(repeating: "n", count: 130_000), queue: "celery",
            delivery: delivery, attempts: .max)
        #expect(minimal.fits(frameMax: 4096))
        let headers = try #require(minimal.headers)
        #expect(headers["pad"] == nil && headers[DeadLetterHeaders.droppedHeaders] == "*")
        #expect(headers[DeadLetterHeaders.reason] == "failed")
        #expect(headers[DeadLetterHeaders.errorMessage]?.stringValue?.utf8.count ?? .max <= DeadLetterHeaders.minimalErrorBytes)
        #expect(headers[DeadLetterHeaders.attempts] == .int32(.max))
        #expect(minimal.contentType == "application/json" && minimal.correlationID == CeleryFixture.taskID)
        #expect(minimal.replyTo == nil)
    }

    // MARK: - Integers and ids from the wire

    @Test(
        "retries out of range is malformed, never a trap",
        arguments: [
            AMQPValue.int64(.max), .uint64(.max), .uint64(UInt64(Int64.max)), .int32(-1), .int64(.min),
        ])
    func retriesOutOfRange(_ retries: AMQPValue) {
        let delivery = Self.delivery(headers: CeleryFixture.headers().with("retries", retries))
        #expect(throws: EnvelopeError.self) { try EnvelopeDecoder().decode(delivery: delivery) }
    }

    @Test("retries up to one less than Int64.max decode, so that the next attempt is a number too")
    func retriesAtTheLimit() throws {
        let delivery = Self.delivery(headers: CeleryFixture.headers().with("retries", .int64(.max - 1)))
        let task = try EnvelopeDecoder().decode(delivery: delivery)
        #expect(task.retries == Int.max - 1)
        #expect(TaskMessage.integer(task.retries + 1) == .int64(.max))
        #expect(RetryPolicy().delay(forAttempt: task.retries + 1, random: { 1 }) >= .zero)
    }

    @Test("a task id over 255 bytes is malformed (no reply could carry it); 255 bytes decode")
    func longIDs() throws {
        let decoder = EnvelopeDecoder()
        let ok = String(repeating: "i", count: 255)
        #expect(try decoder.decode(delivery: Self.delivery(headers: CeleryFixture.headers().with("id", .string(ok)))).id == ok)
        let long = String(repeating: "i", count: 300)
        let error = #expect(throws: EnvelopeError.self) {
            try decoder.decode(delivery: Self.delivery(headers: CeleryFixture.headers().with("id", .string(long))))
        }
        #expect(error?.message.contains("300 bytes") == true)
        #expect(
            error.map {
                DeadLetterHeaders.adding(
                    to: nil, reason: .malformed, errorType: "EnvelopeError", message: $0.message, task: nil, queue: "q",
                    delivery: Self.delivery(headers: [:]), attempts: 0)[DeadLetterHeaders.errorMessage]?.stringValue?.utf8.count ?? .max
            } ?? .max <= 4096)
    }

    @Test("x-delivery-count: any integer kind, never negative, Int64.max without overflow")
    func deliveryCount() {
        #expect(ChildWorker.deliveryCount(.int64(.max)) == Int.max)
        #expect(ChildWorker.deliveryCount(.uint64(.max)) == nil)  // py-amqp's signed -1
        #expect(ChildWorker.deliveryCount(.int32(-5)) == nil)
        #expect(ChildWorker.deliveryCount(.string("3")) == nil)
        #expect(ChildWorker.deliveryCount(.int8(3)) == 3)
        #expect(ChildWorker.deliveryCount(nil) == nil)
    }

    // MARK: - Replies

    @Test("a failure reply's error text is bounded; a success's value is left whole")
    func replyBounded() throws {
        let task = try EnvelopeDecoder().decode(delivery: Self.delivery(headers: CeleryFixture.headers()))
        let huge = String(repeating: "e", count: 200_000)
        let failure = TaskReply.failure(TaskError.fail(huge), for: task).boundingErrorText()
        #expect(failure.traceback.map { $0.utf8.count <= ErrorText.maxBytes } == true)
        let message = try #require(failure.result["exc_message"]?.arrayValue?.first?.stringValue)
        #expect(message.utf8.count <= ErrorText.maxBytes && message.hasSuffix("bytes in all]"))
        let reply = try #require(task.replyMessage(failure))
        #expect(reply.message.body.count < 3 * ErrorText.maxBytes)
        let success = TaskReply.success(.string(huge), for: task)
        #expect(success.boundingErrorText() == success)
    }
}
