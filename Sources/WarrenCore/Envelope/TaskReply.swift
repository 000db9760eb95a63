import AMQP
import Foundation

/// A task's outcome in the format of Celery's `rpc://` result backend: what a worker publishes
/// to the task's `reply_to` queue, and what `AsyncResult.get()` in Python (or a Warren publisher
/// with `--wait`) reads.
///
/// The body is the backend's result meta (`Backend._get_result_meta` in
/// `celery/backends/base.py`, plus `task_id` from `RPCBackend._to_result` in
/// `celery/backends/rpc.py`), keys in this order:
/// ```json
/// {"status": "SUCCESS", "result": 5, "traceback": null, "children": [],
///  "date_done": "2025-01-01T12:00:00.123456+00:00", "task_id": "<id>"}
/// ```
/// `group_id` and `parent_id` come before `task_id` when the task has them; `date_done` is
/// `app.now().isoformat()` (UTC, `+00:00`) for the ready states and `null` otherwise. A failure's
/// `result` is a ``CeleryException`` and its `traceback` the formatted traceback.
package struct TaskReply: Sendable, Hashable {
    /// The task id (`task_id`).
    package var taskID: String
    /// The state (`status`).
    package var state: TaskState
    /// The return value, or for `FAILURE`, `RETRY` and `REVOKED` the exception's JSON (`result`).
    package var result: JSONValue
    /// The formatted traceback of a failure (`traceback`).
    package var traceback: String?
    /// Results of subtasks the task started, as `AsyncResult.as_tuple()` lists (`children`).
    package var children: [JSONValue]
    /// When the task finished (`date_done`); `nil` for states that are not ready.
    package var dateDone: Date?
    /// The task's group (`group_id`).
    package var groupID: String?
    /// The task's parent (`parent_id`).
    package var parentID: String?
    /// Any other keys (for example the `name`, `args`, `kwargs`, `worker`, `retries` and `queue`
    /// that `result_extended` adds), in order.
    package var extra: JSONObject

    /// A reply.
    package init(
        taskID: String, state: TaskState, result: JSONValue, traceback: String? = nil, children: [JSONValue] = [],
        dateDone: Date? = nil, groupID: String? = nil, parentID: String? = nil, extra: JSONObject = [:]
    ) {
        self.taskID = taskID
        self.state = state
        self.result = result
        self.traceback = traceback
        self.children = children
        self.dateDone = dateDone
        self.groupID = groupID
        self.parentID = parentID
        self.extra = extra
    }

    /// The reply for a task that returned `value`.
    /// - Parameters:
    ///   - value: The handler's return value.
    ///   - task: The task that ran.
    ///   - date: When it finished; now by default.
    package static func success(_ value: JSONValue, for task: TaskMessage, at date: Date = Date()) -> TaskReply {
        TaskReply(
            taskID: task.id, state: .success, result: value, dateDone: date, groupID: task.group,
            parentID: task.parentID)
    }

    /// The reply for a task that failed with `exception`.
    /// - Parameters:
    ///   - exception: The exception Python clients will raise.
    ///   - traceback: The traceback text; ``traceback(for:task:)`` by default.
    ///   - task: The task that ran.
    ///   - date: When it failed; now by default.
    package static func failure(
        _ exception: CeleryException, traceback: String? = nil, for task: TaskMessage, at date: Date = Date()
    ) -> TaskReply {
        TaskReply(
            taskID: task.id, state: .failure, result: exception.json,
            traceback: traceback ?? Self.traceback(for: exception, task: task), dateDone: date,
            groupID: task.group, parentID: task.parentID)
    }

    /// The reply for a task whose handler threw `error`; see ``CeleryException/init(_:)``.
    package static func failure(_ error: any Error, for task: TaskMessage, at date: Date = Date()) -> TaskReply {
        let exception = CeleryException(error)
        // Name the Swift type inside the frame (indented, so tblib still parses the traceback).
        let detail = error is any CeleryExceptionConvertible ? nil : "Swift error \(String(reflecting: type(of: error)))"
        return failure(exception, traceback: traceback(for: exception, task: task, detail: detail), for: task, at: date)
    }

    /// A traceback in Python's format, with one frame naming the task, so Celery's optional
    /// remote-traceback support (`task_remote_tracebacks`, via tblib, which needs at least one
    /// frame) can parse it:
    /// ```
    /// Traceback (most recent call last):
    ///   File "<warren>", line 1, in demo.fail
    /// RuntimeError: boom
    /// ```
    package static func traceback(for exception: CeleryException, task: TaskMessage) -> String {
        traceback(for: exception, task: task, detail: nil)
    }

    static func traceback(for exception: CeleryException, task: TaskMessage, detail: String?) -> String {
        let message = exception.message
        var text = "Traceback (most recent call last):\n  File \"<warren>\", line 1, in \(task.name)\n"
        if let detail { text += "    \(detail)\n" }
        return text + (message.isEmpty ? exception.type : "\(exception.type): \(message)") + "\n"
    }

    // MARK: - Wire format

    /// The body as JSON, keys in Celery's order.
    package var json: JSONValue {
        var object: JSONObject = [
            "status": .string(state.rawValue),
            "result": result,
            "traceback": traceback.map(JSONValue.string) ?? .null,
            "children": .array(children),
            "date_done": dateDone.map { .string(CeleryTime.format($0)) } ?? .null,
        ]
        if let groupID { object["group_id"] = .string(groupID) }
        if let parentID { object["parent_id"] = .string(parentID) }
        for (key, value) in extra where object[key] == nil && key != "task_id" { object[key] = value }
        object["task_id"] = .string(taskID)
        return .object(object)
    }

    /// The reply as the `rpc://` backend publishes it: `content_type` `application/json`,
    /// `content_encoding` `utf-8`, `delivery_mode` 1 (transient; `result_persistent` is off by
    /// default), `priority` 0 and empty headers as kombu sends them, and `correlation_id`.
    /// Publish it to the default exchange (`""`) with the task's `reply_to` as routing key.
    /// - Parameter correlationID: The task's `correlation_id`, or its id when it had none.
    package func encoded(correlationID: String) -> EncodedMessage {
        let properties = AMQPBasicProperties(
            contentType: "application/json", contentEncoding: "utf-8", headers: [:], deliveryMode: .transient,
            priority: 0, correlationID: correlationID)
        return EncodedMessage(properties: properties, body: json.serialized())
    }

    /// Reads a reply published by a Celery worker or a Warren worker.
    /// - Parameters:
    ///   - properties: The reply's properties; `correlation_id` stands in for a missing `task_id`.
    ///   - body: The reply's body.
    ///   - maxDepth: How deeply the result may nest; 64 by default.
    /// - Throws: ``EnvelopeError`` with code ``EnvelopeError/Code/invalidReply`` (or
    ///   ``EnvelopeError/Code/unsupportedContent``).
    package static func decode(
        properties: AMQPBasicProperties, body: [UInt8], maxDepth: Int = JSONValue.defaultMaxDepth
    ) throws(EnvelopeError) -> TaskReply {
        let media =
            (properties.contentType ?? "").split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard media.isEmpty || media == "application/json" else {
            throw EnvelopeError(
                .unsupportedContent,
                "reply content type '\(properties.contentType ?? "")' is not supported; Warren reads only application/json "
                    + "(Celery: result_serializer='json')")
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: body, maxDepth: maxDepth)
        } catch {
            throw EnvelopeError(.invalidReply, "reply: \(error.message)", taskID: properties.correlationID)
        }
        guard case .object(var object) = json else {
            throw EnvelopeError(.invalidReply, "a reply must be a JSON object, got \(describe(json))", taskID: properties.correlationID)
        }
        func take(_ key: String) -> JSONValue? {
            defer { object[key] = nil }
            return object[key]
        }
        guard let taskID = take("task_id")?.stringValue ?? properties.correlationID else {
            throw EnvelopeError(.invalidReply, "a reply must have a 'task_id' or a correlation_id")
        }
        guard case .string(let status)? = take("status") else {
            throw EnvelopeError(.invalidReply, "a reply must have a 'status' string", taskID: taskID)
        }
        let result = take("result") ?? .null
        let traceback = take("traceback")?.stringValue
        let children = take("children")?.arrayValue ?? []
        let dateDone = take("date_done")?.stringValue.flatMap(CeleryTime.parse)
        let groupID = take("group_id")?.stringValue
        let parentID = take("parent_id")?.stringValue
        return TaskReply(
            taskID: taskID, state: TaskState(rawValue: status), result: result, traceback: traceback,
            children: children, dateDone: dateDone, groupID: groupID, parentID: parentID, extra: object)
    }

    /// The task's return value once it succeeded; `nil` while it is not finished (`PENDING`,
    /// `STARTED`, `RETRY`, ...).
    /// - Throws: ``TaskFailed`` when the task ended in `FAILURE` or `REVOKED`, with the exception
    ///   its `result` describes (a `result` that is not Celery's exception JSON becomes an
    ///   `Exception` carrying it).
    package func value() throws(TaskFailed) -> JSONValue? {
        if state == .success { return result }
        guard state.propagates else { return nil }
        let exception =
            CeleryException(json: result)
            ?? CeleryException(type: "Exception", module: nil, arguments: result.isNull ? [] : [result])
        throw TaskFailed(taskID: taskID, state: state, exception: exception, traceback: traceback)
    }
}

extension TaskMessage {
    /// Where and how to publish `reply`: the routing key (``replyTo``, on the default exchange
    /// `""`) and the message, with `correlation_id` = ``correlationID`` or the id, as Celery's
    /// `RPCBackend.destination_for` does. `nil` when no reply is wanted (``wantsReply``).
    package func replyMessage(_ reply: TaskReply) -> (routingKey: String, message: EncodedMessage)? {
        guard wantsReply, let replyTo else { return nil }
        let correlation = correlationID.flatMap { $0.isEmpty ? nil : $0 } ?? id
        return (replyTo, reply.encoded(correlationID: correlation))
    }
}

extension TaskReply {
    /// The reply with its error text bounded, as Warren publishes it: for a state other than
    /// `SUCCESS`, the traceback and each of the exception's arguments (`exc_message`) cut to
    /// `maxBytes` (an argument that is not text, to its JSON text when longer). A handler's
    /// return value is its own business and is left whole.
    package func boundingErrorText(maxBytes: Int = ErrorText.maxBytes) -> TaskReply {
        guard state != .success else { return self }
        var reply = self
        reply.traceback = traceback.map { ErrorText.bounded($0, maxBytes: maxBytes) }
        if case .object(var object) = result, case .array(let arguments)? = object["exc_message"] {
            object["exc_message"] = .array(
                arguments.map { argument in
                    if case .string(let text) = argument { return .string(ErrorText.bounded(text, maxBytes: maxBytes)) }
                    let json = argument.jsonText
                    return json.utf8.count > maxBytes ? .string(ErrorText.bounded(json, maxBytes: maxBytes)) : argument
                })
            reply.result = .object(object)
        }
        return reply
    }
}
