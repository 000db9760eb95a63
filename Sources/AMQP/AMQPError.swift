/// The one error type of the `AMQP` module.
///
/// It says what went wrong (``code``), carries librabbitmq's status when the library raised it
/// (``libraryStatus``) and the broker's own words when the broker closed a channel or the
/// connection (``serverClose``). Its ``description`` reads like the broker's log, for example
/// `PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'q' ... (queue.declare, channel 1)`.
public struct AMQPError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case connectionFailed, authenticationFailed, tls, connectionClosed, channelClosed
            case timeout, invalidURL, invalidArgument, protocolError, library
        }
        private let base: Base

        /// The TCP (or TLS) connection could not be opened: refused, unreachable, timed out.
        public static let connectionFailed = Code(base: .connectionFailed)
        /// The broker refused the credentials (`ACCESS_REFUSED`), or the vhost does not allow them.
        public static let authenticationFailed = Code(base: .authenticationFailed)
        /// TLS set-up failed: unreadable certificate or key, or the peer's certificate not trusted.
        public static let tls = Code(base: .tls)
        /// The connection is gone: the broker closed it, the socket died, or heartbeats stopped.
        /// Every later call on it fails with this code; make a new connection.
        public static let connectionClosed = Code(base: .connectionClosed)
        /// The broker closed a channel because of an error on it (``AMQPError/serverClose`` says which).
        /// The connection is still usable; reopen the channel.
        public static let channelClosed = Code(base: .channelClosed)
        /// No answer within the time allowed.
        public static let timeout = Code(base: .timeout)
        /// A connection URL that cannot be parsed.
        public static let invalidURL = Code(base: .invalidURL)
        /// An argument the library cannot use (a channel that is not open, a value out of range).
        public static let invalidArgument = Code(base: .invalidArgument)
        /// The broker sent something the protocol does not allow here.
        public static let protocolError = Code(base: .protocolError)
        /// Any other librabbitmq failure (see ``AMQPError/libraryStatus``).
        public static let library = Code(base: .library)

        public var description: String { base.rawValue }
    }

    /// How the broker closed a channel or the connection (`channel.close` / `connection.close`).
    public struct ServerClose: Sendable, Hashable {
        /// AMQP reply code, e.g. 404 `NOT_FOUND`, 406 `PRECONDITION_FAILED`, 403 `ACCESS_REFUSED`.
        public var replyCode: UInt16
        /// The broker's text, e.g. `NOT_FOUND - no queue 'q' in vhost '/'`.
        public var replyText: String
        /// The AMQP class of the method that caused it (0 when none).
        public var classID: UInt16
        /// The AMQP method that caused it (0 when none).
        public var methodID: UInt16

        /// Creates a server close.
        public init(replyCode: UInt16, replyText: String, classID: UInt16, methodID: UInt16) {
            self.replyCode = replyCode
            self.replyText = replyText
            self.classID = classID
            self.methodID = methodID
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A readable explanation (librabbitmq's text, or the broker's reply text).
    public var message: String
    /// librabbitmq's status (`AMQP_STATUS_*`, negative) when the library raised the error.
    public var libraryStatus: Int32?
    /// The broker's `channel.close` or `connection.close`, when the broker raised it.
    public var serverClose: ServerClose?
    /// What was being done, e.g. `queue.declare 'jobs' on channel 1`.
    public var context: String

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, context: String = "", libraryStatus: Int32? = nil,
        serverClose: ServerClose? = nil
    ) {
        self.code = code
        self.message = message
        self.context = context
        self.libraryStatus = libraryStatus
        self.serverClose = serverClose
    }

    public var description: String {
        var text = message
        if let libraryStatus { text += " [librabbitmq \(libraryStatus)]" }
        if let serverClose, serverClose.replyCode != 0 {
            text += " [\(serverClose.replyCode)]"
        }
        return context.isEmpty ? text : "\(text) (\(context))"
    }
}
