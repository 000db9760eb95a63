import AMQP
import Foundation
import Testing
import Warren

/// A flood of malformed messages against the real `warren-demo` supervisor and a real broker:
/// what an operator relies on when a broken or hostile client fills a worker queue (docs/celery.md:
/// a message Warren cannot decode is dead-lettered with the reason; the child keeps running).
@Suite("Malformed flood", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct MalformedFloodTests {
    static let count = 1_000
    /// The worker's `max_message_size`: small, so that bodies over it are cheap to send.
    static let maxMessageSize = 2048

    @Test("1,000 malformed messages: each dead-lettered once, unchanged, as malformed; no child dies; a valid task then runs")
    func flood() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        try (setup.yaml + "\nmax_message_size: 2KiB\n").write(toFile: setup.path, atomically: true, encoding: .utf8)
        #expect(try setup.configuration().maxMessageSize.bytes == Self.maxMessageSize)
        let worker = try await DemoWorker(config: setup.path)
        let children = Set(worker.childPIDs)
        #expect(children.count == 5)  // latency 2, slow, bigmem, default
        let broker = try await BrokerIO.open()
        try await broker.consume(setup.deadLetterQueue)

        let seed = UInt64.random(in: 0 ... .max)
        var rng = SplitMix64(seed: seed)
        let messages = MalformedMessages(setup: setup, maxMessageSize: Self.maxMessageSize)
        let decoder = EnvelopeDecoder(maxBodySize: Self.maxMessageSize)
        var published: [[UInt8]: Int] = [:]
        let start = ContinuousClock.now
        for index in 0..<Self.count {
            let message = messages.message(index, using: &rng)
            if message.refusedByDecoder {  // really malformed, so a dead letter is the right outcome
                let decoded = try? decoder.decode(properties: message.properties, body: message.body, routingKey: message.routingKey)
                #expect(decoded == nil, "\(message.kind) decodes (seed \(seed))")
            }
            try await broker.publish(
                message.body, exchange: message.exchange, routingKey: message.routingKey, properties: message.properties)
            published[message.body, default: 0] += 1
        }
        let publishedAfter = ContinuousClock.now - start

        // Every dead letter is one of the messages, unchanged, with the reason and the error text.
        var reasons: [String: Int] = [:]
        var deadLettered: [[UInt8]: Int] = [:]
        for _ in 0..<Self.count {
            let dead = try await broker.nextDelivery(timeout: .seconds(30))
            let headers = dead.properties.headers ?? [:]
            reasons[headers["x-warren-reason"]?.stringValue ?? "none", default: 0] += 1
            #expect(headers["x-warren-error"]?.stringValue?.isEmpty == false)
            deadLettered[dead.body, default: 0] += 1
        }
        let deadLetteredAfter = ContinuousClock.now - start
        #expect(reasons == ["malformed": Self.count], "seed \(seed)")
        #expect(deadLettered == published, "seed \(seed)")

        // The worker goes on: a valid task runs and returns its result, in the same children.
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        #expect(try await publisher.call(TaskMessage(name: "demo.add", args: [2, 3])) == 5)
        #expect(Set(worker.childPIDs) == children)
        #expect(!worker.log.contains { $0.contains("child died") || $0.contains("child failed") })
        await publisher.close()
        #expect(await worker.stop() == 0)

        // Exactly once: every child settled its deliveries before it exited, and no other dead
        // letter came (a redelivery would have made a second one); the work queues are empty.
        await #expect(throws: WorkerTestError.self) { _ = try await broker.nextDelivery(timeout: .seconds(1)) }
        for queue in ["latency", "default"] { #expect(try await broker.depth(setup.queue(queue)) == 0) }
        await broker.close()
        print("malformed flood: \(Self.count) published in \(publishedAfter), all dead-lettered after \(deadLetteredAfter) (seed \(seed))")
    }
}
