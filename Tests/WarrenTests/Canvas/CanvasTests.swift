import Foundation
import Testing

@testable import WarrenCore

/// Celery's canvas decisions: what a worker publishes after a task, from its embed.
@Suite("Canvas decisions")
struct CanvasDecisionTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func sig(_ task: String, _ args: [JSONValue] = [], id: String? = nil, immutable: Bool = false, options: JSONObject = [:]) -> JSONValue {
        var o = options
        if let id { o["task_id"] = .string(id) }
        o["reply_to"] = "caller-queue"
        return ["task": .string(task), "args": .array(args), "kwargs": [:], "options": .object(o), "immutable": .bool(immutable)]
    }

    func task(chain: [JSONValue]? = nil, callbacks: [JSONValue]? = nil, errbacks: [JSONValue]? = nil, chord: JSONValue = .null)
        -> TaskMessage
    {
        var t = TaskMessage(name: "demo.add", id: "t1", args: [2, 2], rootID: "root", priority: 3)
        t.embed = [
            "chain": chain.map(JSONValue.array) ?? .null, "callbacks": callbacks.map(JSONValue.array) ?? .null,
            "errbacks": errbacks.map(JSONValue.array) ?? .null, "chord": chord,
        ]
        return t
    }

    @Test("a chain's next step is its last element: result first, frozen id and reply_to, parent and root, the rest carried")
    func chainStep() {
        let t = task(chain: [sig("demo.add", [10], id: "s3"), sig("demo.add", [4], id: "s2")])
        let followUps = Canvas.afterSuccess(of: t, result: 4, now: now)
        #expect(followUps.count == 1)
        let next = followUps[0].message
        #expect(followUps[0].kind == .chainStep)
        #expect(next.id == "s2" && next.name == "demo.add" && next.args == [4, 4])
        #expect(next.replyTo == "caller-queue" && next.parentID == "t1" && next.rootID == "root" && next.priority == 3)
        let carried = try? TaskSignature.parseList(next.chain, "chain").get()
        #expect(carried?.map { $0.options["task_id"] } == ["s3"])
        #expect(followUps[0].destination(taskExchange: "warren") == ("warren", "demo.add"))
    }

    @Test("an immutable step ignores the result; callbacks each get it first")
    func immutableAndCallbacks() {
        let t = task(chain: [sig("demo.add", [1, 1], id: "s2", immutable: true)], callbacks: [sig("cb.one", [10]), sig("cb.two")])
        let followUps = Canvas.afterSuccess(of: t, result: 4, now: now)
        #expect(followUps.map(\.kind) == [.chainStep, .callback, .callback])
        #expect(followUps[0].message.args == [1, 1])
        #expect(followUps[1].message.args == [4, 10] && followUps[2].message.args == [4])
    }

    @Test("options: queue goes straight to it; exchange and routing key; countdown and expires from now; hostile values ignored")
    func options() {
        let t = task(callbacks: [
            sig("py.a", options: ["queue": "python"]),
            sig("py.b", options: ["exchange": "other", "routing_key": "rk", "countdown": 10, "expires": 60]),
            sig("py.c", id: String(repeating: "x", count: 300), options: ["countdown": -5, "priority": 999, "time_limit": .double(.nan)]),
        ])
        let f = Canvas.afterSuccess(of: t, result: .null, now: now)
        #expect(f[0].destination(taskExchange: "warren") == ("", "python"))
        #expect(f[1].destination(taskExchange: "warren") == ("other", "rk"))
        #expect(f[1].message.eta == now.addingTimeInterval(10) && f[1].message.expires == now.addingTimeInterval(60))
        #expect(f[2].message.id.utf8.count < 255 && f[2].message.eta == nil && f[2].message.priority == 3)
        #expect(f[2].message.timeLimit == .none)
    }

    @Test("a final failure: errbacks get the failed task's id first; the rest of the chain is abandoned with its frozen ids")
    func failure() {
        let t = task(chain: [sig("demo.add", [5], id: "s3"), sig("demo.add", [4], id: "s2")], errbacks: [sig("demo.args", [7])])
        let (errbacks, abandoned) = Canvas.afterFailure(of: t, now: now)
        #expect(errbacks.count == 1 && errbacks[0].message.args == ["t1", 7] && errbacks[0].message.parentID == "t1")
        #expect(abandoned.map(\.id) == ["s3", "s2"] && abandoned.allSatisfy { $0.replyTo == "caller-queue" })
    }

    @Test("a chord is unsupported; an embed that is not Celery's shape is malformed; a plain task has no problem")
    func problems() {
        #expect(Canvas.problem(with: task(chord: sig("body")))?.reason == .unsupported)
        var bad = task()
        bad.embed = ["chain": "not a list", "callbacks": .null, "errbacks": .null, "chord": .null]
        #expect(Canvas.problem(with: bad)?.reason == .malformed)
        #expect(Canvas.problem(with: task(callbacks: [["args": []]]))?.reason == .malformed)  // no task name
        #expect(Canvas.problem(with: task()) == nil)
        #expect(Canvas.afterSuccess(of: task(), result: 1).isEmpty)
    }
}
