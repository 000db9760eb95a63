import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import WarrenCore

extension MetricSamples {
    /// Fetches `http://listen/metrics`.
    /// - Throws: when nothing answers there within `timeout`, or the answer is not 200.
    package static func scrape(_ listen: ListenAddress, timeout: Duration = .seconds(5)) async throws -> MetricSamples {
        let (status, body) = try await HTTPGet.fetch(listen, path: "/metrics", timeout: timeout)
        guard status == .ok else { throw WorkerError(.metricsUnavailable, "http://\(listen)/metrics answered \(status.code)") }
        return MetricSamples(parsing: String(decoding: body.readableBytesView, as: UTF8.self))
    }
}

/// One HTTP/1.1 `GET` on a connection of its own: what `status` needs to read a supervisor's
/// metrics. HTTP is SwiftNIO's (NIOHTTP1), on NIO's shared event loops.
enum HTTPGet {
    /// The status and body of `GET path` at `listen`.
    /// - Throws: when nothing answers within `timeout`, or the connection ends early.
    /// The largest answer read: a supervisor's metrics are a few hundred KiB at most.
    static let maxBodyBytes = 16 << 20

    static func fetch(_ listen: ListenAddress, path: String, timeout: Duration) async throws -> (HTTPResponseStatus, ByteBuffer) {
        let address = try listen.socketAddress()
        let url = "http://\(listen)\(path)"
        let limit = TimeAmount(timeout)
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(limit)
                .connect(to: address) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw WorkerError(.metricsUnavailable, "\(url): cannot connect (\(error))")
        }
        // The whole exchange is bounded: at the deadline the connection is closed, which ends the
        // response stream below.
        let timedOut = Atomic(false)
        let deadline = channel.channel.eventLoop.scheduleTask(in: limit) {
            timedOut.store(true, ordering: .relaxed)
            channel.channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        let answer: (HTTPResponseStatus, ByteBuffer)? = try await channel.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "\(listen)")
            headers.add(name: "Connection", value: "close")
            // Head and end in one write: a GET has no body, so the server may answer (and close)
            // as soon as it has the head, and a second write could find the connection closed.
            try await outbound.write(contentsOf: [
                .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)), .end(nil),
            ])
            var status: HTTPResponseStatus?
            var body = ByteBuffer()
            do {
                for try await part in inbound {
                    switch part {
                    case .head(let head): status = head.status
                    case .body(var chunk):
                        // Whoever holds the port is not trusted to answer with metrics of a sane size.
                        guard body.readableBytes + chunk.readableBytes <= maxBodyBytes else {
                            throw WorkerError(.metricsUnavailable, "\(url) answered with more than \(maxBodyBytes >> 20) MiB")
                        }
                        body.writeBuffer(&chunk)
                    case .end: return status.map { ($0, body) }
                    }
                }
            } catch  where timedOut.load(ordering: .relaxed) {
                // Reported below, with the reason.
            }
            return nil
        }
        guard let answer else {
            if timedOut.load(ordering: .relaxed) {
                throw WorkerError(.metricsUnavailable, "\(url) did not answer within \(timeout.humanReadable)")
            }
            throw WorkerError(.metricsUnavailable, "\(url) closed the connection before its answer was complete")
        }
        return answer
    }
}
