import AMQP
import Foundation
import Testing

@testable import WarrenClient
@testable import WarrenCore

/// What the options of one send do to its message and its destination.
@Suite("Client task options")
struct TaskOptionsTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("countdown and expires count from the send; an id replaces id and correlation id; headers never override Celery's")
    func applied() {
        var base = TaskMessage(name: "demo.add", args: [1, 2])
        base.headers["x-mine"] = "kept"
        let options = TaskOptions(
            taskID: "fixed", countdown: .seconds(10), expires: .seconds(60), priority: 7,
            headers: ["x-mine": "theirs", "traceparent": "00-abc"])
        let m = options.applied(to: base, now: now)
        #expect(m.id == "fixed" && m.correlationID == "fixed")
        #expect(m.eta == now.addingTimeInterval(10))
        #expect(m.expires == now.addingTimeInterval(60))
        #expect(m.priority == 7)
        #expect(m.headers["x-mine"] == "kept")
        #expect(m.headers["traceparent"] == "00-abc")
    }

    @Test("a queue goes straight through the default exchange; otherwise the exchange and routing key, or the task name")
    func destination() {
        #expect(TaskOptions(queue: "py").destination(exchange: "warren", task: "t") == ("", "py"))
        #expect(TaskOptions().destination(exchange: "warren", task: "t") == ("warren", "t"))
        #expect(TaskOptions(exchange: "x", routingKey: "k").destination(exchange: "warren", task: "t") == ("x", "k"))
    }
}

/// A typed task on the wire: kwargs for Python, positional names for Celery callers.
@Suite("Typed tasks")
struct TaskDefinitionTests {
    struct Add: TaskDefinition {
        static let name = "demo.add"
        static let argumentNames = ["a", "b"]
        typealias Result = Int
        var a: Int
        var b: Int
    }

    struct Note: TaskDefinition {
        static let name = "notes.add"
        var text: String
    }

    @Test("its stored properties travel as kwargs, under its name")
    func encodes() throws {
        let m = try Add(a: 2, b: 3).message()
        #expect(m.name == "demo.add" && m.args.isEmpty)
        #expect(m.kwargs == ["a": 2, "b": 3])
    }

    @Test("a Celery caller's positional args bind to argumentNames; without names they are refused")
    func decodesPositional() throws {
        #expect(try Add(from: TaskMessage(name: "demo.add", args: [2, 3])) == Add(a: 2, b: 3))
        #expect(try Add(from: TaskMessage(name: "demo.add", args: [2], kwargs: ["b": 4])) == Add(a: 2, b: 4))
        #expect(throws: EnvelopeError.self) { try Note(from: TaskMessage(name: "notes.add", args: ["hi"])) }
        #expect(try Note(from: TaskMessage(name: "notes.add", kwargs: ["text": "hi"])).text == "hi")
    }
}

extension TaskDefinitionTests.Add: Equatable {}
