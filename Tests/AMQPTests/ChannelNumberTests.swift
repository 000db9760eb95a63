import AMQP
import Foundation
import Testing

/// A long-lived connection that opens and closes channels now and then (the supervisor's queue
/// probe opens one per queue every few seconds) must not grow: librabbitmq keeps a memory pool
/// per channel number ever used, for the life of the connection.
@Suite("Channel numbers", .enabled(if: TestBroker.available, TestBroker.skipReason))
struct ChannelNumberTests {
    @Test("3,000 channels opened and closed one after another reuse at most 32 numbers")
    func numbersGoRound() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let queue = TestBroker.uniqueName("probe")
        let setup = try connection.openChannel()
        try setup.declareQueue(queue, durable: false, exclusive: true)
        try setup.close()
        var ids = Set<UInt16>()
        func probe(_ n: Int) throws {
            for _ in 0..<n {
                let channel = try connection.openChannel()
                ids.insert(channel.id)
                _ = try channel.inspectQueue(queue)
                try channel.close()
            }
        }
        try probe(3000)
        // Memory is not measured here: the test process is shared with the suites running in
        // parallel. Walking all 2047 numbers grew the supervisor by ~5 KiB a channel (soak).
        #expect(ids.count <= 32, "\(ids.count) channel numbers used")
    }

    @Test("numbers are still not reused at once: the next channel after a close takes the next number")
    func nextNumber() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let first = try connection.openChannel()
        try first.close()
        let second = try connection.openChannel()
        #expect(second.id != first.id)
        try second.close()
    }
}
