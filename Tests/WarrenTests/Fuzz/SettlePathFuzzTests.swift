import AMQP
import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// Random header tables up to frame_max, ids, task names and error texts of every size through
/// the dead letter's forms, as a child tries them (full, then original headers left out, then
/// minimal): one of them always fits the frame, and what Warren added is always bounded.
@Suite("Fuzzing the settle path")
struct SettlePathFuzzTests {
    static let rounds = 300

    /// Text of `bytes` UTF-8 bytes or a little less, with multi-byte characters now and then.
    static func text(_ bytes: Int, using rng: inout SeededRandom) -> String {
        var result = ""
        var used = 0
        while used < bytes {
            let piece = rng.chance(0.1) ? rng.pick(["é", "✓", "😀", "\u{301}", "\n"]) : String(repeating: "x", count: min(64, bytes - used))
            if used + piece.utf8.count > bytes { break }
            result += piece
            used += piece.utf8.count
        }
        return result
    }

    @Test("every dead letter has a form that fits the frame; the reasons are bounded; only original headers are left out")
    func deadLetterForms() throws {
        let seed = UInt64.random(in: 0 ... .max)
        var rng = SeededRandom(seed: seed)
        for round in 0..<Self.rounds {
            let frameMax = rng.pick([4096, 8192, 65_536, 131_072])
            var headers: AMQPTable = ["lang": "py", "task": "demo.add", "retries": .int32(0)]
            headers["id"] = .string(Self.text(rng.int(1...600), using: &rng))
            // Original headers up to what the publisher's frame allows (the broker took them).
            var budget = frameMax - 400
            if rng.chance(0.2) {  // a client's own x-warren- headers, of any size
                let size = rng.int(0...budget / 2)
                headers[rng.pick([DeadLetterHeaders.firstFailure, "x-warren-pad", DeadLetterHeaders.exchange])] = .string(
                    Self.text(size, using: &rng))
                budget -= size + 40
            }
            while budget > 0 && rng.chance(0.8) {
                let size = rng.int(0...budget)
                headers["h\(headers.count)"] =
                    rng.chance(0.2)
                    ? .array([.string(Self.text(size / 2, using: &rng)), .int64(.max), .table(["k": .bytes(rng.bytes(size / 4))])])
                    : .string(Self.text(size, using: &rng))
                budget -= size + 20
            }
            let original = AMQPBasicProperties(
                contentType: "application/json", contentEncoding: "utf-8", headers: headers, deliveryMode: .persistent,
                correlationID: rng.chance(0.5) ? String(repeating: "c", count: rng.int(0...255)) : nil,
                replyTo: rng.chance(0.5) ? "replies" : nil,
                messageID: rng.chance(0.5) ? String(repeating: "m", count: rng.int(0...255)) : nil)
            guard original.fits(frameMax: frameMax) else { continue }  // the broker would not have taken it
            let delivery = AMQPDelivery(
                channel: 1, consumerTag: "c", deliveryTag: 1, redelivered: false, exchange: "", routingKey: "q",
                properties: original, body: [])
            let error = Self.text(rng.int(0...300_000), using: &rng)
            let task = Self.text(rng.int(1...2000), using: &rng)
            let errorType = Self.text(rng.int(0...600), using: &rng)
            let context =
                "round \(round), frame_max \(frameMax), headers \(headers.encodedSize) bytes, error \(error.utf8.count) (seed \(seed))"

            var full = original
            full.headers = DeadLetterHeaders.adding(
                to: headers, reason: .failed, errorType: errorType, message: error, task: task, queue: "q", delivery: delivery,
                attempts: rng.int(0...Int.max))
            let added = try #require(full.headers)
            #expect(added[DeadLetterHeaders.errorMessage]?.stringValue.map { $0.utf8.count <= ErrorText.maxBytes } == true, "\(context)")
            #expect(added[DeadLetterHeaders.task]?.stringValue.map { $0.utf8.count <= 255 } == true, "\(context)")
            #expect(added[DeadLetterHeaders.errorType]?.stringValue.map { $0.utf8.count <= 255 } == true, "\(context)")

            let sent: AMQPBasicProperties
            if full.fits(frameMax: frameMax) {
                sent = full
            } else if let fitted = DeadLetterHeaders.fitting(full, frameMax: frameMax) {
                sent = fitted
                let kept = Set(fitted.headers?.keys ?? [])
                let warrens = [
                    DeadLetterHeaders.reason, DeadLetterHeaders.errorType, DeadLetterHeaders.errorMessage, DeadLetterHeaders.task,
                    DeadLetterHeaders.queue, DeadLetterHeaders.exchange, DeadLetterHeaders.routingKey, DeadLetterHeaders.attempts,
                    DeadLetterHeaders.firstFailure, DeadLetterHeaders.lastFailure,
                ]
                for key in warrens { #expect(kept.contains(key), "\(key) left out: \(context)") }
                let dropped = fitted.headers?[DeadLetterHeaders.droppedHeaders]?.stringValue ?? ""
                #expect(!dropped.isEmpty, "\(context)")
            } else {
                sent = DeadLetterHeaders.minimal(
                    original, id: headers["id"]?.stringValue, reason: .failed, errorType: errorType, message: error, task: task,
                    queue: "q", delivery: delivery, attempts: 1)
            }
            #expect(sent.fits(frameMax: frameMax), "\(context)")
            #expect(sent.headers?[DeadLetterHeaders.reason] == "failed", "\(context)")
            // The minimal form fits any frame a broker allows.
            let minimal = DeadLetterHeaders.minimal(
                original, id: headers["id"]?.stringValue, reason: .failed, errorType: errorType, message: error, task: task,
                queue: "q", delivery: delivery, attempts: 1)
            #expect(minimal.fits(frameMax: 4096), "\(context)")
        }
    }

    @Test("error text of any size and content is cut to at most the limit, on a character boundary")
    func boundedText() {
        let seed = UInt64.random(in: 0 ... .max)
        var rng = SeededRandom(seed: seed)
        for _ in 0..<Self.rounds {
            let text = rng.chance(0.5) ? Self.text(rng.int(0...20_000), using: &rng) : rng.text(maxLength: 3000)
            let limit = rng.int(40...8192)
            let bounded = ErrorText.bounded(text, maxBytes: limit)
            #expect(bounded.utf8.count <= limit, "seed \(seed)")
            if text.utf8.count <= limit {
                #expect(bounded == text, "seed \(seed)")
            } else {
                #expect(bounded.hasSuffix("… [cut: \(text.utf8.count) bytes in all]"), "seed \(seed)")
                let kept = bounded.dropLast("… [cut: \(text.utf8.count) bytes in all]".count)
                #expect(text.hasPrefix(kept), "seed \(seed)")
            }
        }
    }
}

/// SplitMix64 for the settle-path fuzz: seeded, so that a failure names the seed that reproduces it.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
