import AMQP
import Foundation

/// One task as it travels in Celery's message protocol v2: what to run, with which arguments,
/// and the metadata Celery puts in the headers.
///
/// Read one from a delivery with ``EnvelopeDecoder``; create one to publish with
/// ``init(name:id:args:kwargs:eta:countdown:expires:expiresIn:retries:timeLimit:rootID:parentID:group:groupIndex:shadow:origin:ignoreResult:replyTo:priority:embed:now:)``
/// and turn it into an AMQP message with ``encoded(now:)``. Decode the arguments into a handler's
/// type with ``decodeArguments(as:argumentNames:)``.
public struct TaskMessage: Sendable, Hashable {
    /// The registered task name, e.g. `demo.add` (header `task`).
    public var name: String
    /// The task id, a UUID string (header `id`).
    public var id: String
    /// Positional arguments (body element 0).
    public var args: [JSONValue]
    /// Keyword arguments (body element 1).
    public var kwargs: JSONObject
    /// Celery's embedded signatures (body element 2), kept as raw JSON: an object with
    /// `callbacks`, `errbacks`, `chain` and `chord`, or `null`. Warren does not run them.
    public var embed: JSONValue
    /// How many times the task was retried before this delivery: 0 on the first attempt
    /// (header `retries`).
    public var retries: Int
    /// Not to be run before this time (header `eta`).
    public var eta: Date?
    /// Not to be run after this time (header `expires`); dead-lettered as `expired` instead.
    public var expires: Date?
    /// Per-task time limits that override the queue's (header `timelimit`).
    public var timeLimit: TaskTimeLimit
    /// The id of the first task of the workflow (header `root_id`).
    public var rootID: String?
    /// The id of the task that sent this one (header `parent_id`).
    public var parentID: String?
    /// The id of the group this task belongs to (header `group`).
    public var group: String?
    /// The position of the task in its group (header `group_index`).
    public var groupIndex: Int?
    /// A display name that replaces ``name`` in logs and events (header `shadow`).
    public var shadow: String?
    /// The node that sent the task, e.g. `gen1234@host` (header `origin`).
    public var origin: String?
    /// `true` when the sender wants no result even though ``replyTo`` is set (header `ignore_result`).
    public var ignoreResult: Bool
    /// The queue to publish the result to, in Celery's `rpc://` format (property `reply_to`).
    public var replyTo: String?
    /// Correlates the result with the task; Celery sets it to the task id (property `correlation_id`).
    public var correlationID: String?
    /// The message priority (property `priority`).
    public var priority: UInt8?
    /// The content type the message arrived with (property `content_type`).
    public var contentType: String?
    /// Every header as it arrived, including ones Warren does not interpret (`argsrepr`,
    /// `stamps`, `x-death`, ...), so a republished task loses nothing. ``encoded(now:)`` starts
    /// from these and overwrites the keys it manages.
    public var headers: AMQPTable

    /// The embed object Celery sends when a task has no callbacks:
    /// `{"callbacks": null, "errbacks": null, "chain": null, "chord": null}`.
    public static let emptyEmbed: JSONValue = ["callbacks": .null, "errbacks": .null, "chain": .null, "chord": .null]

    /// A task to publish.
    ///
    /// - Parameters:
    ///   - name: The registered task name; it is also the routing key.
    ///   - id: The task id; defaults to a fresh lowercase UUID (``newID()``).
    ///   - args: Positional arguments.
    ///   - kwargs: Keyword arguments.
    ///   - eta: Not to be run before this time.
    ///   - countdown: Not to be run before `now + countdown`; overrides `eta`, as in Celery.
    ///   - expires: Not to be run after this time.
    ///   - expiresIn: Not to be run after `now + expiresIn`; overrides `expires`.
    ///   - retries: The attempt number; 0 for a new task.
    ///   - timeLimit: Per-task limits; none by default.
    ///   - rootID: The workflow's first task; defaults to `id` when encoded.
    ///   - parentID: The task that sends this one.
    ///   - group: The group id.
    ///   - groupIndex: The position in the group.
    ///   - shadow: A display name.
    ///   - origin: The sending node; defaults to ``defaultOrigin``.
    ///   - ignoreResult: `true` to ask for no result.
    ///   - replyTo: The queue that receives the result; `nil` when nobody waits for it.
    ///   - priority: The message priority.
    ///   - embed: Celery's embedded signatures; defaults to ``emptyEmbed``.
    ///   - now: The current time, for `countdown` and `expiresIn`.
    public init(
        name: String, id: String = TaskMessage.newID(), args: [JSONValue] = [], kwargs: JSONObject = [:],
        eta: Date? = nil, countdown: Duration? = nil, expires: Date? = nil, expiresIn: Duration? = nil,
        retries: Int = 0, timeLimit: TaskTimeLimit = .none, rootID: String? = nil, parentID: String? = nil,
        group: String? = nil, groupIndex: Int? = nil, shadow: String? = nil, origin: String? = nil,
        ignoreResult: Bool = false, replyTo: String? = nil, priority: UInt8? = nil,
        embed: JSONValue = TaskMessage.emptyEmbed, now: Date = Date()
    ) {
        self.name = name
        self.id = id
        self.args = args
        self.kwargs = kwargs
        self.embed = embed
        self.retries = retries
        self.eta = countdown.map { now.addingTimeInterval($0.seconds) } ?? eta
        self.expires = expiresIn.map { now.addingTimeInterval($0.seconds) } ?? expires
        self.timeLimit = timeLimit
        self.rootID = rootID
        self.parentID = parentID
        self.group = group
        self.groupIndex = groupIndex
        self.shadow = shadow
        self.origin = origin ?? TaskMessage.defaultOrigin
        self.ignoreResult = ignoreResult
        self.replyTo = replyTo
        self.correlationID = id
        self.priority = priority
        self.contentType = "application/json"
        self.headers = [:]
    }

    /// A fresh task id: a random (version 4) UUID in lowercase, as Celery's `uuid()` makes them.
    ///
    /// From `SystemRandomNumberGenerator` (the `getrandom` call): Foundation's `UUID()` opens,
    /// reads and closes `/dev/urandom` each time on Linux, which a client sending thousands of
    /// tasks a second pays for on every one.
    public static func newID() -> String {
        var random = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: (random.next() as UInt64, random.next() as UInt64)) { bytes = Array($0) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { text.append(UInt8(ascii: "-")) }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The `origin` Celery's clients send: `gen<pid>@<hostname>` (`anon_nodename` in
    /// `celery/utils/nodenames.py`).
    public static let defaultOrigin = "gen\(ProcessInfo.processInfo.processIdentifier)@\(hostName())"

    /// `gethostname()`, as Python's `socket.gethostname()`; no DNS lookup.
    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// `true` when a result should be published: ``replyTo`` is set and ``ignoreResult`` is not.
    public var wantsReply: Bool { !ignoreResult && !(replyTo ?? "").isEmpty }

    /// Signatures to apply with the result when the task succeeds (`embed.callbacks`), or `null`.
    public var callbacks: JSONValue { embed["callbacks"] ?? .null }
    /// Signatures to apply when the task fails (`embed.errbacks`), or `null`.
    public var errbacks: JSONValue { embed["errbacks"] ?? .null }
    /// The rest of a chain, last task first (`embed.chain`), or `null`.
    public var chain: JSONValue { embed["chain"] ?? .null }
    /// The chord callback (`embed.chord`), or `null`.
    public var chord: JSONValue { embed["chord"] ?? .null }
}

/// Per-task time limits (Celery's `timelimit` header, `[hard, soft]` in seconds).
public struct TaskTimeLimit: Sendable, Hashable {
    /// After this long the task is killed (with its child) and retried or dead-lettered.
    public var hard: Duration?
    /// After this long the handler is cancelled.
    public var soft: Duration?

    /// Limits, each optional.
    public init(hard: Duration? = nil, soft: Duration? = nil) {
        self.hard = hard
        self.soft = soft
    }

    /// No per-task limits: the queue's apply.
    public static let none = TaskTimeLimit()
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
