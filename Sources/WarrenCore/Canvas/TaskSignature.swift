import Foundation

/// A task to run later as part of a workflow — a chain step, a `link` callback, a `link_error`
/// errback — as Celery's canvas writes it in a task's `embed`: `{"task", "args", "kwargs",
/// "options", "subtask_type", "immutable"}` (celery/canvas.py `Signature`).
///
/// ```swift
/// let steps = [TaskSignature("demo.add", args: [2, 2]), TaskSignature("demo.add", args: [4])]
/// let sum = try await client.chain(steps).result()   // 8: each step gets the previous result first
/// ```
///
/// A signature read from a message was chosen by whoever published it: Warren checks every field.
public struct TaskSignature: Sendable, Equatable {
    /// The task name.
    public var task: String
    /// Positional arguments; the parent's result goes before them unless ``immutable``.
    public var args: [JSONValue]
    /// Keyword arguments.
    public var kwargs: JSONObject
    /// `apply_async` options, frozen by the client: `task_id`, `reply_to`, and perhaps `queue`,
    /// `exchange`, `routing_key`, `priority`, `countdown`, `eta`, `expires`, `time_limit`,
    /// `soft_time_limit`, `link`, `link_error`, `group_id`, `group_index`.
    public var options: JSONObject
    /// An immutable signature ignores its parent's result (Celery's `.si()`).
    public var immutable: Bool
    /// `chain`, `group`, `chord` or nil for a plain task signature.
    public var subtaskType: String?

    /// A signature of task `name`.
    public init(_ name: String, args: [JSONValue] = [], kwargs: JSONObject = [:], immutable: Bool = false, options: JSONObject = [:]) {
        self.task = name
        self.args = args
        self.kwargs = kwargs
        self.options = options
        self.immutable = immutable
        self.subtaskType = nil
    }

    /// A signature of a typed task, with its properties as kwargs. Immutable: a typed task has
    /// all its arguments, so a parent's result is not put before them.
    /// - Throws: `EnvelopeError` when the task does not encode to a JSON object.
    public init(_ task: some TaskDefinition) throws(EnvelopeError) {
        let message = try task.message()
        self.init(message.name, kwargs: message.kwargs, immutable: true)
    }

    /// The task id the client froze for it (`options.task_id`), if any.
    public var id: String? {
        get { options["task_id"]?.stringValue }
        set { options["task_id"] = newValue.map(JSONValue.string) ?? .null }
    }

    /// The queue its result goes to (`options.reply_to`), if any.
    public var replyTo: String? {
        get { options["reply_to"]?.stringValue }
        set { options["reply_to"] = newValue.map(JSONValue.string) ?? .null }
    }

    init(task: String, args: [JSONValue], kwargs: JSONObject, options: JSONObject, immutable: Bool, subtaskType: String?) {
        self.task = task
        self.args = args
        self.kwargs = kwargs
        self.options = options
        self.immutable = immutable
        self.subtaskType = subtaskType
    }

    /// The most bytes of a name or id Warren takes from a signature (as for a message's own).
    static let maxNameBytes = 255

    /// Reads a signature; `nil` with the reason when it is not one Warren can send on.
    package static func parse(_ value: JSONValue) -> Result<TaskSignature, CanvasError> {
        guard let object = value.objectValue else { return .failure(CanvasError("a signature is \(value.kindName), not an object")) }
        guard let task = object["task"]?.stringValue, !task.isEmpty, task.utf8.count <= maxNameBytes else {
            return .failure(CanvasError("a signature has no task name (or one over \(maxNameBytes) bytes)"))
        }
        let args: [JSONValue]
        switch object["args"] {
        case nil, .null?: args = []
        case .array(let a)?: args = a
        default: return .failure(CanvasError("the args of signature \(ErrorText.quoted(task)) are not an array"))
        }
        let kwargs: JSONObject
        switch object["kwargs"] {
        case nil, .null?: kwargs = [:]
        case .object(let k)?: kwargs = k
        default: return .failure(CanvasError("the kwargs of signature \(ErrorText.quoted(task)) are not an object"))
        }
        let options: JSONObject
        switch object["options"] {
        case nil, .null?: options = [:]
        case .object(let o)?: options = o
        default: return .failure(CanvasError("the options of signature \(ErrorText.quoted(task)) are not an object"))
        }
        let subtaskType = object["subtask_type"]?.stringValue
        return .success(
            TaskSignature(
                task: task, args: args, kwargs: kwargs, options: options, immutable: object["immutable"]?.boolValue ?? false,
                subtaskType: subtaskType))
    }

    /// Reads a list of signatures (`callbacks`, `errbacks`, `chain`): null or absent is none.
    package static func parseList(_ value: JSONValue?, _ what: String) -> Result<[TaskSignature], CanvasError> {
        switch value {
        case nil, .null?: return .success([])
        case .array(let items)?:
            guard items.count <= 1000 else { return .failure(CanvasError("\(what) holds \(items.count) signatures (at most 1000)")) }
            var signatures: [TaskSignature] = []
            for item in items {
                switch parse(item) {
                case .success(let s): signatures.append(s)
                case .failure(let e): return .failure(CanvasError("\(what): \(e.message)"))
                }
            }
            return .success(signatures)
        case let other?:
            return .failure(CanvasError("\(what) is \(other.kindName), not a list of signatures"))
        }
    }
}

extension TaskSignature {
    /// The signature as Celery writes it.
    public var json: JSONValue {
        var object: JSONObject = [
            "task": .string(task), "args": .array(args), "kwargs": .object(kwargs), "options": .object(options),
            "immutable": .bool(immutable),
        ]
        object["subtask_type"] = subtaskType.map(JSONValue.string) ?? .null
        return .object(object)
    }
}

/// A workflow Warren cannot follow as written: the message is dead-lettered with this text.
package struct CanvasError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
