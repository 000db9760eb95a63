import AMQP
import Foundation
import WarrenCore

extension WarrenClient {
    /// The connection in use, or the reconnection under way.
    struct Link {
        var io: AMQPConnectionThread?
        var connecting: Task<AMQPConnectionThread, any Error>?
        /// Routes the replies of `io`; ends when `io` does.
        var listener: Task<Void, Never>?
        /// Where the next connection attempt starts in the URL list: after the node that failed.
        var nextURL = 0
        var closed = false
    }

    /// The live connection, or a new one (one reconnection at a time, shared by the callers).
    /// - Parameter patience: How long to keep trying to reach a broker, if a new connection is
    ///   needed and none is being made.
    /// - Throws: ``WarrenClientError`` `closed`, or `unreachable` with the last failure.
    func connection(patience: Duration) async throws -> AMQPConnectionThread {
        let (io, pending) = try link.withLock { link -> (AMQPConnectionThread?, Task<AMQPConnectionThread, any Error>?) in
            if link.closed { throw WarrenClientError(.closed, "the client is closed") }
            if let io = link.io, io.failure == nil { return (io, nil) }
            link.io = nil
            if link.connecting == nil {
                let start = link.nextURL
                link.connecting = Task { try await self.reconnect(start: start, patience: patience) }
            }
            return (nil, link.connecting)
        }
        if let io { return io }
        let result = await pending!.result
        let usable = link.withLock { link -> Bool in
            if link.connecting == pending { link.connecting = nil }
            if case .success(let io) = result, !link.closed {
                if link.io == nil { link.io = io }
                return link.io === io
            }
            return false
        }
        let fresh: AMQPConnectionThread
        do {
            fresh = try result.get()
        } catch let error as WarrenClientError {
            throw error
        } catch {
            throw WarrenClientError(.unreachable, "no broker answered: \(error)")
        }
        guard usable else {
            await fresh.close()
            throw WarrenClientError(.closed, "the client is closed")
        }
        return fresh
    }

    /// Forgets `io` (if it is still the one in use) and closes it.
    func drop(_ io: AMQPConnectionThread) async {
        link.withLock { link in
            guard link.io === io else { return }
            link.io = nil
            link.nextURL += 1
        }
        await io.close()
    }

    /// Tries ``open(start:)`` with the reconnection backoff until it works or `patience` passed.
    private func reconnect(start: Int, patience: Duration) async throws -> AMQPConnectionThread {
        let deadline = ContinuousClock.now + patience
        var failures = 0
        while true {
            do {
                return try await open(start: start + failures)
            } catch {
                failures += 1
                let wait = BrokerConfig.reconnectDelay(afterFailures: failures)
                guard ContinuousClock.now + wait < deadline else { throw error }
                try await Task.sleep(for: wait)
            }
        }
    }

    /// Opens a connection, its channels and the reply queue, and starts routing replies.
    private func open(start: Int) async throws -> AMQPConnectionThread {
        let (io, _) = try await configuration.broker.connectAny(name: connectionName, threadName: "amqp-client", start: start)
        let (queue, expiry) = (replyQueue, Int32(clamping: Int64(configuration.replyQueueExpiry.seconds * 1000)))
        do {
            try await io.perform { connection throws(AMQPError) in
                _ = try connection.openChannel(Self.publishChannel)
                let channel = try connection.openChannel(Self.replyChannel)
                // Not exclusive and not auto-deleted: it outlives this connection, so a result
                // that comes while the client reconnects waits for it; `x-expires` removes it
                // once no client has used it for that long.
                _ = try channel.declareQueue(queue, durable: false, arguments: ["x-expires": .int32(max(1000, expiry))])
                _ = try channel.consume(queue: queue, noAck: true)
            }
        } catch {
            await io.close()
            throw error
        }
        let listener = Task { await self.routeReplies(of: io) }
        link.withLock { $0.listener = listener }
        return io
    }

    /// Keeps a connection up until the client closes (what ``run()`` does), reconnecting with the
    /// backoff when one fails, so that results keep flowing even while nothing is sent.
    func keepConnected() async {
        var failures = 0
        while !Task.isCancelled, !link.withLock({ $0.closed }) {
            do {
                let io = try await connection(patience: configuration.reconnectPatience)
                failures = 0
                let listener = link.withLock { $0.io === io ? $0.listener : nil }
                if let listener { await listener.value } else { try await Task.sleep(for: .milliseconds(100)) }
            } catch {
                if link.withLock({ $0.closed }) || Task.isCancelled { return }
                failures += 1
                logger.warning("client cannot reach the broker", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: BrokerConfig.reconnectDelay(afterFailures: failures))
            }
        }
    }
}
