import AMQP

/// Messages ready and consumers of queues, as the broker tells them (passive declares).
package struct QueueCounts: Sendable, Equatable {
    package var messages: Int
    var consumers: Int

    /// The counts of each queue in `names` that exists (a missing one is left out), read on
    /// `io`'s thread, one channel per queue (a missing queue closes its channel).
    package static func read(_ names: [String], on io: AMQPConnectionThread) async throws(AMQPError) -> [String: QueueCounts] {
        try await io.perform { connection throws(AMQPError) in
            var counts: [String: QueueCounts] = [:]
            for name in names {
                let channel = try connection.openChannel()
                do throws(AMQPError) {
                    let info = try channel.inspectQueue(name)
                    counts[name] = QueueCounts(messages: Int(info.messageCount), consumers: Int(info.consumerCount))
                    try channel.close()
                } catch  where error.serverClose?.replyCode == 404 {
                    continue  // the broker closed the channel
                }
            }
            return counts
        }
    }
}
