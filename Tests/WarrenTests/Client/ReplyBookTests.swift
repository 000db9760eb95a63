import Foundation
import Testing

@testable import WarrenClient
@testable import WarrenCore

/// The bookkeeping of a client's reply queue: who waits for which result.
@Suite("Client reply book")
struct ReplyBookTests {
    func reply(_ id: String, _ value: JSONValue = 1) -> TaskReply {
        .success(value, for: TaskMessage(name: "t", id: id))
    }

    @Test("a reply that comes first is kept and claimed by the first wait; a second wait waits")
    func earlyReply() {
        var book = ReplyBook<String>(capacity: 10)
        let resumed = book.deliver(reply("a", 5), for: "a")
        #expect(resumed.isEmpty)
        guard case .ready(let got) = book.wait(for: "a", "w1") else { Issue.record("not ready"); return }
        #expect(got.result == 5)
        guard case .waiting = book.wait(for: "a", "w2") else { Issue.record("claimed twice"); return }
        #expect(book.unclaimedCount == 0)
    }

    @Test("every waiter of an id gets its reply; other ids are untouched")
    func waitersResumed() {
        var book = ReplyBook<String>(capacity: 10)
        _ = book.wait(for: "a", "w1")
        _ = book.wait(for: "a", "w2")
        _ = book.wait(for: "b", "w3")
        let resumed = book.deliver(reply("a"), for: "a")
        #expect(Set(resumed) == ["w1", "w2"])
        #expect(book.waitingCount == 1)
    }

    @Test("unclaimed replies are bounded: the oldest are forgotten first")
    func bounded() {
        var book = ReplyBook<String>(capacity: 3)
        for i in 0..<2000 { _ = book.deliver(reply("id\(i)"), for: "id\(i)") }
        #expect(book.unclaimedCount == 3)
        guard case .ready = book.wait(for: "id1999", "w") else { Issue.record("newest lost"); return }
        guard case .waiting = book.wait(for: "id0", "w") else { Issue.record("oldest kept"); return }
    }

    @Test("cancelling one wait leaves the others of the same id waiting")
    func cancelOne() {
        var book = ReplyBook<String>(capacity: 10)
        guard case .waiting(let t1) = book.wait(for: "a", "w1"), case .waiting = book.wait(for: "a", "w2") else {
            Issue.record("not waiting")
            return
        }
        let first = book.cancel("a", token: t1)
        let again = book.cancel("a", token: t1)
        let resumed = book.deliver(reply("a"), for: "a")
        #expect(first == "w1" && again == nil)
        #expect(resumed == ["w2"])
    }

    @Test("closing hands back every waiter; later waits fail at once and nothing is kept")
    func close() {
        var book = ReplyBook<String>(capacity: 10)
        _ = book.wait(for: "a", "w1")
        _ = book.deliver(reply("b"), for: "b")
        let failed = book.close()
        #expect(failed == ["w1"])
        guard case .closed = book.wait(for: "b", "w2") else { Issue.record("open after close"); return }
        let resumed = book.deliver(reply("c"), for: "c")
        #expect(resumed.isEmpty)
        #expect(book.unclaimedCount == 0)
    }
}

/// A closing client waits for the sends under way.
@Suite("Client send gate")
struct SendGateTests {
    @Test("closing with nothing under way is immediate; afterwards no send enters")
    func idle() {
        var gate = SendGate<String>()
        let closedAtOnce = gate.close("w")
        let entered = gate.enter()
        #expect(closedAtOnce && !entered)
    }

    @Test("closing with sends under way waits for the last one to leave")
    func drains() {
        var gate = SendGate<String>()
        let two = gate.enter() && gate.enter()
        let closedAtOnce = gate.close("w")
        let enteredAfter = gate.enter()
        let first = gate.leave()
        let last = gate.leave()
        #expect(two && !closedAtOnce && !enteredAfter)
        #expect(first.isEmpty && last == ["w"])
    }
}
