import Synchronization
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Delayed delivery ladder")
struct DelayedDeliveryTests {
    @Test("under 100 ms there is no step: the worker waits in memory")
    func belowSmallestStep() {
        #expect(DelayedDelivery.step(atMost: 0) == nil)
        #expect(DelayedDelivery.step(atMost: 99) == nil)
        #expect(DelayedDelivery.step(atMost: 100) == 100)
    }

    @Test(
        "a step is never above the delay and at most 10% below it", arguments: [100, 150, 999, 1000, 5_000, 60_000, 3_600_000, 86_400_000])
    func stepWithinTenPercent(ms: Int) throws {
        let step = try #require(DelayedDelivery.step(atMost: ms))
        #expect(step <= ms)
        #expect(Double(step) >= Double(ms) / 1.1 - 1)
    }

    @Test("few distinct wait queues: a day's range needs under 130 steps")
    func fewSteps() {
        var steps = Set<Int>()
        var ms = 100
        while ms <= 86_400_000 {
            steps.insert(DelayedDelivery.step(atMost: ms)!)
            ms = ms * 21 / 20 + 1
        }
        #expect(steps.count < 150)
    }

    @Test("a delay past RabbitMQ's longest TTL (10 years) waits the longest step, never a TTL the broker refuses")
    func longestStep() throws {
        let step = try #require(DelayedDelivery.step(atMost: Int.max / 2))
        #expect(step <= DelayedDelivery.longestStep && step > DelayedDelivery.longestStep * 9 / 10)
        #expect(DelayedDelivery.steps(upTo: 86_400_000).last! <= 86_400_000)
    }

    @Test("names derive from the exchange")
    func names() {
        let d = DelayedDelivery(exchange: "warren")
        #expect(d.waitExchange == "warren.wait" && d.delayedExchange == "warren.delayed")
        #expect(d.waitQueue(milliseconds: 1210) == "warren.wait.1210ms")
        #expect(DelayedDelivery.waitHeaders(["a": 1], milliseconds: 500)["warren-wait"] == .string("500"))
    }
}

@Suite("Delivery tracker")
struct DeliveryTrackerTests {
    @Test("an ack may be `multiple` only when nothing older is outstanding")
    func multipleOnlyForOldest() {
        let t = DeliveryTracker()
        for tag in 1...4 { t.received(UInt64(tag)) }
        var sent: [(UInt64, Bool)] = []
        for tag in [3, 1, 2, 4] as [UInt64] { t.settle(tag) { sent.append((tag, $0)) } }
        #expect(sent.map(\.0) == [3, 1, 2, 4])
        #expect(sent.map(\.1) == [false, true, true, true])  // 3 waits for 1 and 2; the rest are oldest
        #expect(t.count == 0)
    }

    @Test("acks settled from many tasks at once, replayed in send order, never ack a tag the broker forgot")
    func concurrentSettlementsAreValidForTheBroker() async {
        let t = DeliveryTracker()
        let count: UInt64 = 5000
        for tag in 1...count { t.received(tag) }
        let sent = SendLog()
        await withTaskGroup(of: Void.self) { group in
            for tag in (1...count).shuffled() {
                group.addTask {
                    // `send` runs where the real code enqueues the ack for the connection thread.
                    t.settle(tag) { multiple in sent.append(tag, multiple) }
                }
            }
        }
        // The broker's view: unacknowledged tags; a multiple ack takes every one up to its tag.
        var unacked = Set(1...count)
        var unknown: [UInt64] = []
        for (tag, multiple) in sent.entries {
            guard unacked.contains(tag) else { unknown.append(tag); continue }
            if multiple { unacked = unacked.filter { $0 > tag } } else { unacked.remove(tag) }
        }
        #expect(unknown.isEmpty, "acks of tags the broker no longer had: \(unknown.prefix(5))")
        #expect(unacked.isEmpty)
    }
}

/// The acks in the order they were handed to the connection thread.
final class SendLog: Sendable {
    private let log = Mutex<[(UInt64, Bool)]>([])
    func append(_ tag: UInt64, _ multiple: Bool) { log.withLock { $0.append((tag, multiple)) } }
    var entries: [(UInt64, Bool)] { log.withLock { $0 } }
}

@Suite("Async slots")
struct AsyncSlotsTests {
    @Test("at most `limit` holders at once")
    func limit() async {
        let slots = AsyncSlots(2)
        let counter = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    await slots.acquire()
                    await counter.enter()
                    await Task.yield()
                    await counter.leave()
                    slots.release()
                }
            }
        }
        #expect(await counter.maximum <= 2)
    }

    actor Counter {
        var current = 0
        var maximum = 0
        func enter() {
            current += 1
            maximum = max(maximum, current)
        }
        func leave() { current -= 1 }
    }
}
