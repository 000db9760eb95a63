import Testing

@testable import WarrenCore
@testable import WarrenRuntime

/// How a child batches its task events (Celery's `task.multi` messages).
@Suite("Task event batches")
struct TaskEventBatchTests {
    @Test("the first event asks for a flush later; the 24th publishes the batch as one JSON list of the events, in order")
    func fullBatch() throws {
        var batch = TaskEventBatch()
        #expect(batch.add(Array(#"{"n":0}"#.utf8)) == .flushLater)
        for n in 1..<23 { #expect(batch.add(Array(#"{"n":\#(n)}"#.utf8)) == .wait) }
        guard case .publish(let list) = batch.add(Array(#"{"n":23}"#.utf8)) else {
            Issue.record("the 24th event did not publish the batch")
            return
        }
        let events = try #require(try JSONValue(parsing: list).arrayValue)
        #expect(events.map { $0["n"]?.intValue } == (0..<24).map { $0 })
        // The flush asked for by the first event finds nothing left; the next event asks again.
        #expect(batch.flush() == nil)
        #expect(batch.add(Array(#"{"n":24}"#.utf8)) == .flushLater)
    }

    @Test("a flush sends what waits, once; an idle child's single event goes out alone")
    func flush() throws {
        var batch = TaskEventBatch()
        _ = batch.add(Array(#"{"a":1}"#.utf8))
        _ = batch.add(Array(#"{"b":2}"#.utf8))
        let flushed = batch.flush()
        let both = try #require(flushed)
        #expect(try JSONValue(parsing: both) == [["a": 1], ["b": 2]])
        #expect(batch.flush() == nil)
        #expect(batch.add(Array(#"{"c":3}"#.utf8)) == .flushLater)
        let last = batch.flush()
        let one = try #require(last)
        #expect(try JSONValue(parsing: one) == [["c": 3]])
    }
}
