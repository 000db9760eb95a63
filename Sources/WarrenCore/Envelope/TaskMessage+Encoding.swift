import AMQP
import Foundation

extension TaskMessage {
    /// The header keys Celery's `as_task_v2` writes, in its order (`celery/app/amqp.py`).
    static let celeryHeaderKeys = [
        "lang", "task", "id", "shadow", "eta", "expires", "group", "group_index", "retries", "timelimit",
        "root_id", "parent_id", "argsrepr", "kwargsrepr", "origin", "ignore_result", "replaced_task_nesting",
        "stamped_headers", "stamps",
    ]

    /// The task as Celery's `as_task_v2` and `send_task_message` publish it, so that Celery
    /// workers and Warren workers both run it.
    ///
    /// - **Headers** — exactly Celery's keys in Celery's order: `lang` (`py`: the body follows the
    ///   Python convention of args/kwargs/embed), `task`, `id`, `shadow`, `eta`, `expires`,
    ///   `group`, `group_index`, `retries`, `timelimit` (`[hard, soft]`), `root_id` (the id when
    ///   unset), `parent_id`, `argsrepr`, `kwargsrepr` (Python reprs, at most 1024 characters),
    ///   `origin`, `ignore_result`, `replaced_task_nesting`, `stamped_headers`, `stamps`. Unset
    ///   values are `None` (AMQP void); times are `isoformat()` text in UTC (`+00:00`); integers
    ///   are 32-bit (`I`) when they fit, which py-amqp reads as signed. Other keys of ``headers``
    ///   are kept after these, and the last three keep their received values.
    /// - **Properties** — `content_type` `application/json`, `content_encoding` `utf-8`,
    ///   `delivery_mode` 2 (persistent), `priority` (0 unless set, as kombu sends it),
    ///   `correlation_id` (the id unless set), `reply_to` when set, `expiration` when ``expires``
    ///   is set (milliseconds from `now` as text, never negative, as Celery computes it), and —
    ///   beyond Celery — `message_id` = the id and `timestamp` = `now`, for queue-lag metrics
    ///   (and the header `timestamp_in_ms`, to the millisecond).
    /// - **Body** — `[args, kwargs, embed]`.
    ///
    /// - Parameter now: The publish time, for `timestamp` and `expiration`.
    /// - Returns: The properties and body to publish. Publish it to the exchange with the task
    ///   name as routing key (see docs/routing.md).
    package func encoded(now: Date = Date()) -> EncodedMessage {
        func string(_ text: String?) -> AMQPValue { text.map(AMQPValue.string) ?? .void }
        func time(_ date: Date?) -> AMQPValue { date.map { .string(CeleryTime.format($0)) } ?? .void }
        func seconds(_ duration: Duration?) -> AMQPValue {
            guard let duration else { return .void }
            let seconds = duration.seconds
            if let whole = Int32(exactly: seconds) { return .int32(whole) }
            return .double(seconds)
        }

        // Built as one list: Celery's keys are distinct, and a table's keyed insert scans it
        // (20 inserts cost every send about 200 key comparisons).
        var entries: [(String, AMQPValue)] = [
            ("lang", "py"), ("task", .string(name)), ("id", .string(id)), ("shadow", string(shadow)), ("eta", time(eta)),
            ("expires", time(expires)), ("group", string(group)), ("group_index", groupIndex.map(Self.integer) ?? .void),
            ("retries", Self.integer(retries)), ("timelimit", .array([seconds(timeLimit.hard), seconds(timeLimit.soft)])),
            ("root_id", .string(rootID ?? id)), ("parent_id", string(parentID)),
            ("argsrepr", .string(PythonRepr.truncated(.array(args)))), ("kwargsrepr", .string(PythonRepr.truncated(.object(kwargs)))),
            ("origin", .string(origin ?? Self.defaultOrigin)), ("ignore_result", .bool(ignoreResult)),
            ("replaced_task_nesting", headers["replaced_task_nesting"] ?? .int32(0)),
            ("stamped_headers", headers["stamped_headers"] ?? .void), ("stamps", headers["stamps"] ?? .table([:])),
        ]
        var extra = AMQPTable()  // the message's other headers, each once (the first of a repeated key's place, its last value)
        for (key, value) in headers where !Self.celeryHeaderKeys.contains(key) {
            extra[key] = value
        }
        // The publish time to the millisecond, for queue lag (`timestamp` counts whole seconds);
        // the name RabbitMQ's message-timestamp plugin uses. Kept when already set (a retry).
        if extra[QueueLag.header] == nil {
            extra[QueueLag.header] = .int64(Int64((max(0, now.timeIntervalSince1970) * 1000).rounded()))
        }
        entries.reserveCapacity(entries.count + extra.count)
        for (key, value) in extra { entries.append((key, value)) }
        let table = AMQPTable(entries)

        var properties = AMQPBasicProperties(
            contentType: "application/json",
            contentEncoding: "utf-8",
            headers: table,
            deliveryMode: .persistent,
            priority: priority ?? 0,
            correlationID: correlationID ?? id,
            replyTo: (replyTo ?? "").isEmpty ? nil : replyTo,
            messageID: id,
            timestamp: UInt64(max(0, now.timeIntervalSince1970))
        )
        if let expires {
            // kombu: str(int(expiration * 1000)); Celery: a time in the past becomes 0.
            let seconds = max(0, expires.timeIntervalSince(now))
            properties.expiration = String(Int64(seconds * 1000))
        }

        let body: JSONValue = [.array(args), .object(kwargs), embed]
        return EncodedMessage(properties: properties, body: body.serialized())
    }

    /// An integer header: `I` (signed 32-bit) when it fits, as py-amqp writes it, else `l`.
    package static func integer(_ value: Int) -> AMQPValue {
        if let small = Int32(exactly: value) { return .int32(small) }
        return .int64(Int64(value))
    }
}
