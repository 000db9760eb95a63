import NIOCore
import NIOHTTP1

/// Answers the requests of one HTTP/1.1 connection to the supervisor's metrics port:
/// `GET /metrics` (Prometheus text format), `GET /` (a pointer there), 404 for other paths and
/// 405 for other methods. `HEAD` is answered like `GET`, without the body.
///
/// Parsing, pipelining and keep-alive are NIOHTTP1's (`configureHTTPServerPipeline`); this
/// handler only sees whole request heads and writes whole responses. It closes a connection
/// that has not sent a whole request within `requestTimeout` of connecting or of its previous
/// answer: a client trickling a header byte every few seconds (slowloris) or idling on
/// keep-alive holds a descriptor only that long.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: WarrenMetrics
    private let requestTimeout: TimeAmount
    /// The request being read: answered at its end (its body, if any, is ignored).
    private var request: HTTPRequestHead?
    /// Closes the connection unless a whole request arrives first.
    private var deadline: Scheduled<Void>?

    init(metrics: WarrenMetrics, requestTimeout: TimeAmount = .seconds(10)) {
        self.metrics = metrics
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) { armDeadline(context) }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

    private func armDeadline(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            deadline?.cancel()
            respond(to: head, context: context)
            armDeadline(context)  // for the next request on a kept-alive connection
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let (status, contentType, body) = answer(head)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }

        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            // Close only once the response left, or a large body would be cut short.
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    private func answer(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String, [UInt8]) {
        guard head.method == .GET || head.method == .HEAD else {
            return (.methodNotAllowed, "text/plain", Array("method not allowed\n".utf8))
        }
        // The query string, if any, does not matter.
        switch head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" {
        case "/metrics": return (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.exposition())
        case "/": return (.ok, "text/plain", Array("Warren: see /metrics\n".utf8))
        default: return (.notFound, "text/plain", Array("not found; see /metrics\n".utf8))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A client that went away, or a request NIOHTTP1 could not parse (answered 400 by the
        // pipeline's error handler): nothing more to say on this connection.
        context.close(promise: nil)
    }
}
