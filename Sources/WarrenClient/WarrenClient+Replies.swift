import AMQP
import Synchronization
import WarrenCore

extension WarrenClient {
    /// Routes the results arriving on `io`'s reply consumer to their callers, until `io` ends.
    func routeReplies(of io: AMQPConnectionThread) async {
        for await event in io.events {
            guard case .delivery(let delivery) = event,
                let reply = try? TaskReply.decode(properties: delivery.properties, body: delivery.body),
                reply.state.isReady
            else { continue }
            let id = delivery.properties.correlationID ?? reply.taskID
            for waiter in replies.withLock({ $0.deliver(reply, for: id) }) { waiter.resume(returning: reply) }
        }
        // The connection ended. The reply queue outlives it: reconnect (unless the client closed)
        // so that the results still to come reach their callers.
        link.withLock { link in
            if link.io === io { link.io = nil }
        }
        reconnectInBackground()
    }

    /// Starts a reconnection unless the client is closed, connected, or already reconnecting:
    /// results come only while a connection consumes the reply queue.
    func reconnectInBackground() {
        let needed = link.withLock { link in
            !link.closed && link.connecting == nil && (link.io == nil || link.io?.failure != nil)
        }
        guard needed else { return }
        Task { _ = try? await self.connection(patience: self.configuration.reconnectPatience) }
    }

    /// Waits for the reply of task `id`, at most `timeout`.
    func reply(for id: String, name: String, timeout: Duration) async throws -> TaskReply {
        reconnectInBackground()
        return try await withThrowingTaskGroup(of: TaskReply?.self) { group in
            group.addTask { try await self.waitForReply(id) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let reply = first else {
                throw WarrenClientError(.timedOut, "no result for \(name) [\(id)] within \(timeout.humanReadable)")
            }
            return reply
        }
    }

    /// Waits for the reply of task `id` until it comes, the client closes, or the task is cancelled.
    private func waitForReply(_ id: String) async throws -> TaskReply {
        let token = Mutex<Int?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<TaskReply, any Error>) in
                switch replies.withLock({ $0.wait(for: id, continuation) }) {
                case .ready(let reply): continuation.resume(returning: reply)
                case .closed: continuation.resume(throwing: WarrenClientError(.closed, "the client is closed"))
                case .waiting(let t):
                    let cancelled = token.withLock { stored -> Bool in
                        defer { stored = t }
                        return stored == -1
                    }
                    if cancelled, let waiter = replies.withLock({ $0.cancel(id, token: t) }) {
                        waiter.resume(throwing: CancellationError())
                    }
                }
            }
        } onCancel: {
            // The token is set once the wait is registered; -1 tells a registration still to come.
            let t = token.withLock { stored -> Int? in
                defer { if stored == nil { stored = -1 } }
                return stored
            }
            if let t, t >= 0, let waiter = replies.withLock({ $0.cancel(id, token: t) }) {
                waiter.resume(throwing: CancellationError())
            }
        }
    }
}
