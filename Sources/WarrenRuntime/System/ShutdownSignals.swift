import Dispatch
import Foundation

/// Signals as async "requests" (libdispatch reads them through a signalfd on Linux; they are
/// not ignored or re-handled anywhere else).
///
/// `@unchecked Sendable`: `sources` is written once in `init` and only kept to keep the
/// dispatch sources alive; `stream` is Sendable.
final class ShutdownSignals: @unchecked Sendable {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    /// Listens for `signals` (SIGTERM and SIGINT by default).
    init(_ signals: [Int32] = [SIGTERM, SIGINT]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        sources = signals.map { signo in
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler { continuation.yield(signo) }
            source.resume()
            return source
        }
    }

    /// Waits for the next signal (call it from one task at a time).
    @discardableResult
    func first() async -> Int32? {
        var it = stream.makeAsyncIterator()
        return await it.next()
    }
}
