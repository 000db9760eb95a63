import AMQP
import Foundation
import Logging
import Synchronization
import WarrenCore

/// The broker connection of a part of the supervisor that keeps one of its own (the scheduler,
/// the Celery node): sessions one after another, each on a fresh connection, until the task
/// running ``run(deliveries:lost:_:)`` is cancelled.
///
/// A session declares what it needs, calls `connected` once that worked, and then handles
/// events until its connection ends (it throws). Between sessions the part waits
/// `BrokerConfig.reconnectDelay` (100 ms doubling to 5 s, ±20 %), from the start again after
/// a session that had connected; the first failure in a row is logged.
struct OwnConnection: Sendable {
    /// The broker, with the heartbeat the part wants.
    var broker: BrokerConfig
    /// The connection's name in the broker's management UI.
    var name: String
    var threadName: String
    /// Names the part in log lines ("scheduler", "celery node").
    var part: String
    var logger: Logger

    /// Runs sessions until cancelled.
    ///
    /// - Parameters:
    ///   - deliveries: The session's event for a delivery on channel 1 (where it consumes).
    ///   - lost: Its event for the end of the connection, or of its consumer or a channel.
    ///   - afterEach: Runs after each session ends (before the wait).
    ///   - session: Gets the connection, its events (also the sink, for events of the session's
    ///     own) and `connected`; throws when the session ends (`CancellationError` when cancelled).
    ///     The connection is closed after it returns or throws.
    func run<Event: Sendable>(
        deliveries: @escaping @Sendable (AMQPDelivery) -> Event, lost: @escaping @Sendable (String) -> Event,
        afterEach: () -> Void = {},
        _ session: (AMQPConnectionThread, AsyncStream<Event>, AsyncStream<Event>.Continuation, _ connected: @Sendable () -> Void)
            async throws -> Void
    ) async {
        var failures = 0
        while !Task.isCancelled {
            let wasConnected = Atomic(false)
            do {
                let (broker, name, threadName) = (broker, name, threadName)
                let io = try await unlessCancelled(
                    { try await broker.connect(name: name, threadName: threadName) }, abandoned: { await $0.close() })
                let (events, sink) = AsyncStream.makeStream(of: Event.self)
                let forwarder = Task {
                    for await event in io.events {
                        switch event {
                        case .delivery(let delivery) where delivery.channel == 1: sink.yield(deliveries(delivery))
                        case .consumerCancelled: sink.yield(lost("the broker cancelled the consumer"))
                        case .channelClosed(let channel, let error): sink.yield(lost("channel \(channel) closed: \(error)"))
                        default: break
                        }
                    }
                    sink.yield(lost(io.failure.map { "\($0)" } ?? "the connection closed"))
                }
                defer {
                    forwarder.cancel()
                    sink.finish()
                }
                do {
                    try await session(io, events, sink) { wasConnected.store(true, ordering: .relaxed) }
                } catch {
                    await io.close()
                    throw error
                }
                await io.close()
            } catch is CancellationError {
                afterEach()
                break
            } catch {
                if wasConnected.load(ordering: .relaxed) { failures = 0 }
                if failures == 0 { logger.warning("\(part): lost the broker; connecting again", metadata: ["error": "\(error)"]) }
            }
            afterEach()
            if Task.isCancelled { break }
            try? await Task.sleep(for: BrokerConfig.reconnectDelay(afterFailures: failures))
            failures += 1
        }
    }
}
