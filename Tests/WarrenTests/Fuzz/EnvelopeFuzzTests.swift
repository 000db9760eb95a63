import AMQP
import Foundation
import PropertyBased
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// Property tests of the envelope decoder on random and broken input: what a worker relies on
/// when anything at all arrives in its queue. Every message either decodes or is refused with
/// an ``EnvelopeError`` an operator can read (then the worker dead-letters it as `malformed`
/// and keeps running); nothing crashes or hangs; and every task Warren publishes reads back
/// as it was sent.
///
/// A failure prints the input and a `.fixedSeed(…)` trait that replays it.
@Suite("Fuzzing the envelope decoder", .timeLimit(fuzzTimeLimit))
struct EnvelopeFuzzTests {
    static let decoder = EnvelopeDecoder(maxBodySize: MessageFuzzer.maxBodySize, maxDepth: MessageFuzzer.maxDepth)

    static let messages = Generator<FuzzMessage, Shrink.None<FuzzMessage>> { rng in MessageFuzzer.message(using: &rng) }
    static let tasks = Generator<TaskMessage, Shrink.None<TaskMessage>> { rng in MessageFuzzer.task(using: &rng) }

    @Test("random and mutated messages decode or are refused with a readable EnvelopeError")
    func decodesOrRefuses() async {
        await propertyCheck(count: fuzzIterations(1500), input: Self.messages) { message in
            Self.check(message)
        }
    }

    @Test("a task encoded by Warren decodes to the same task")
    func roundTrip() async {
        await propertyCheck(count: fuzzIterations(800), input: Self.tasks) { task in
            let encoded = task.encoded()
            let decoded: TaskMessage
            do {
                decoded = try EnvelopeDecoder().decode(properties: encoded.properties, body: encoded.body, routingKey: task.name)
            } catch {
                Issue.record("refused its own message: \(error)")
                return
            }
            Self.expectSameTask(decoded, task)
        }
    }

    /// What every message must satisfy, decoded or refused.
    static func check(_ message: FuzzMessage, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let task = try decoder.decode(properties: message.properties, body: message.body, routingKey: message.routingKey)
            #expect(message.body.count <= decoder.maxBodySize, "accepted a body over the limit", sourceLocation: sourceLocation)
            #expect(!task.name.isEmpty && !task.id.isEmpty && task.retries >= 0, sourceLocation: sourceLocation)
            let named = message.properties.headers?["task"].flatMap { $0.isVoid ? nil : $0.stringValue }
            #expect(task.name == (named ?? message.routingKey), sourceLocation: sourceLocation)
            // Whatever was accepted can be published again and reads the same. Written out, a
            // body that was an object of kwargs is wrapped in [args, kwargs, embed], one level
            // deeper, so it is read back with a limit one higher.
            let again = task.encoded()
            let rereader = EnvelopeDecoder(maxBodySize: decoder.maxBodySize, maxDepth: decoder.maxDepth + 1)
            do {
                let reread = try rereader.decode(properties: again.properties, body: again.body, routingKey: task.name)
                expectSameTask(reread, task, sourceLocation: sourceLocation)
            } catch {
                if error.code != .tooLarge {  // re-encoding may add the embed object and spaces
                    Issue.record("a decoded task, encoded again, is refused: \(error)", sourceLocation: sourceLocation)
                }
            }
        } catch {
            expectReadable(error, sourceLocation: sourceLocation)
            if error.code == .tooLarge {
                #expect(message.body.count > decoder.maxBodySize, sourceLocation: sourceLocation)
            }
        }
    }

    /// A refusal an operator can act on: a message of one short line, without control
    /// characters (it goes into logs and into the dead letter's `x-warren-error` header).
    static func expectReadable(_ error: EnvelopeError, sourceLocation: SourceLocation = #_sourceLocation) {
        let text = error.description
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        #expect(text.count <= 1000, "an error message of \(text.count) characters: \(text.prefix(300))…", sourceLocation: sourceLocation)
        let control = text.unicodeScalars.first { $0.properties.generalCategory == .control }
        #expect(
            control == nil, "control character \(control.map { "U+\(String($0.value, radix: 16))" } ?? "") in \(text.debugDescription)",
            sourceLocation: sourceLocation)
        if let name = error.taskName { #expect(!name.isEmpty, sourceLocation: sourceLocation) }
    }

    /// The fields a task message carries, compared as they travel (times to the microsecond
    /// Celery's text keeps; unset ones as the encoder fills them in).
    static func expectSameTask(_ decoded: TaskMessage, _ task: TaskMessage, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(decoded.name == task.name, sourceLocation: sourceLocation)
        #expect(decoded.id == task.id, sourceLocation: sourceLocation)
        // As JSON text: NaN, which a body may hold, is not equal to itself.
        #expect(JSONValue.array(decoded.args).jsonText == JSONValue.array(task.args).jsonText, sourceLocation: sourceLocation)
        #expect(JSONValue.object(decoded.kwargs).jsonText == JSONValue.object(task.kwargs).jsonText, sourceLocation: sourceLocation)
        #expect(decoded.embed.jsonText == task.embed.jsonText, sourceLocation: sourceLocation)
        #expect(decoded.retries == task.retries, sourceLocation: sourceLocation)
        #expect(
            sameTime(decoded.eta, task.eta), "eta \(String(describing: decoded.eta)) != \(String(describing: task.eta))",
            sourceLocation: sourceLocation)
        #expect(
            sameTime(decoded.expires, task.expires),
            "expires \(String(describing: decoded.expires)) != \(String(describing: task.expires))",
            sourceLocation: sourceLocation)
        #expect(decoded.timeLimit == task.timeLimit, sourceLocation: sourceLocation)
        #expect(decoded.rootID == (task.rootID ?? task.id), sourceLocation: sourceLocation)
        #expect(decoded.parentID == task.parentID, sourceLocation: sourceLocation)
        #expect(decoded.group == task.group && decoded.groupIndex == task.groupIndex, sourceLocation: sourceLocation)
        #expect(decoded.shadow == task.shadow, sourceLocation: sourceLocation)
        #expect(decoded.origin == (task.origin ?? TaskMessage.defaultOrigin), sourceLocation: sourceLocation)
        #expect(decoded.ignoreResult == task.ignoreResult, sourceLocation: sourceLocation)
        #expect(decoded.replyTo == task.replyTo, sourceLocation: sourceLocation)
        #expect(decoded.correlationID == (task.correlationID ?? task.id), sourceLocation: sourceLocation)
        #expect(decoded.priority == (task.priority ?? 0), sourceLocation: sourceLocation)
    }

    /// Equal to the microsecond, or as near as a `Date` (a `Double`) holds that far from 1970.
    static func sameTime(_ a: Date?, _ b: Date?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        let t = b.timeIntervalSince1970
        return abs(a.timeIntervalSince1970 - t) <= 1e-6 + 4 * t.magnitude.ulp
    }
}
