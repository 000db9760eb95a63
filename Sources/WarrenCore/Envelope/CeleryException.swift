import Foundation

/// An exception as Celery's result backends store it with the JSON serializer
/// (`Backend.prepare_exception` in `celery/backends/base.py`):
/// `{"exc_type": "ValueError", "exc_message": ["bad value"], "exc_module": "builtins"}`.
///
/// Python's `AsyncResult.get()` rebuilds it with `exception_to_python`: it looks `exc_module` up
/// in `sys.modules` and `exc_type` (dotted for nested classes) in it, then raises
/// `cls(*exc_message)`. When the module is not imported or lacks the name, Celery creates an
/// `Exception` subclass named `exc_type` in module `celery.exceptions`; when the name is not an
/// exception class it raises `SecurityError` instead.
///
/// Warren reports a Swift error as `builtins.RuntimeError` with the error's text, so Python
/// clients can catch it precisely; a Swift error type can choose its own Python exception by
/// conforming to ``CeleryExceptionConvertible``.
public struct CeleryException: Sendable, Hashable {
    /// The exception class name (`exc_type`), e.g. `ValueError` or `Outer.Inner`.
    public var type: String
    /// The module that defines it (`exc_module`), e.g. `builtins`; `nil` makes Celery create
    /// the class.
    public var module: String?
    /// The exception's arguments (`exc_message`, Python's `exc.args`).
    public var arguments: [JSONValue]

    /// An exception with these arguments.
    /// - Parameters:
    ///   - type: The class name.
    ///   - module: The defining module; `builtins` by default.
    ///   - arguments: The exception's arguments.
    public init(type: String, module: String? = "builtins", arguments: [JSONValue]) {
        self.type = type
        self.module = module
        self.arguments = arguments
    }

    /// An exception with one message argument, e.g. `ValueError("bad value")`.
    /// - Parameters:
    ///   - type: The class name.
    ///   - module: The defining module; `builtins` by default.
    ///   - message: The message.
    public init(type: String, module: String? = "builtins", message: String) {
        self.init(type: type, module: module, arguments: [.string(message)])
    }

    /// The Python exception for a Swift error: the error's own choice when it is
    /// ``CeleryExceptionConvertible``, else `builtins.RuntimeError` with the error's
    /// `errorDescription` (for a `LocalizedError`) or `String(describing:)`.
    public init(_ error: any Error) {
        if let convertible = error as? any CeleryExceptionConvertible {
            self = convertible.celeryException
        } else {
            self.init(type: "RuntimeError", module: "builtins", message: Self.text(of: error))
        }
    }

    /// What `str(exc)` shows in Python: the single argument, or the arguments' tuple.
    public var message: String {
        switch arguments.count {
        case 0: return ""
        case 1: return arguments[0].stringValue ?? PythonRepr.repr(arguments[0])
        default: return "(" + arguments.map(PythonRepr.repr).joined(separator: ", ") + ")"
        }
    }

    /// The JSON Celery stores: `{"exc_type": ..., "exc_message": [...], "exc_module": ...}`.
    public var json: JSONValue {
        [
            "exc_type": .string(type),
            "exc_message": .array(arguments),
            "exc_module": module.map(JSONValue.string) ?? .null,
        ]
    }

    /// Reads Celery's stored exception; `exc_message` may be a list or a single value. Returns
    /// `nil` when `json` has no `exc_type`.
    public init?(json: JSONValue) {
        guard case .string(let type)? = json["exc_type"] else { return nil }
        self.type = type
        self.module = json["exc_module"]?.stringValue
        switch json["exc_message"] {
        case nil, .null?: arguments = []
        case .array(let items)?: arguments = items
        case let single?: arguments = [single]
        }
    }

    static func text(of error: any Error) -> String {
        if let localized = error as? any LocalizedError, let description = localized.errorDescription {
            return description
        }
        return String(describing: error)
    }
}

/// A Swift error that chooses the Python exception a Celery client sees for it.
///
/// ```swift
/// struct InvalidInput: Error, CeleryExceptionConvertible {
///     var reason: String
///     var celeryException: CeleryException { CeleryException(type: "ValueError", message: reason) }
/// }
/// ```
public protocol CeleryExceptionConvertible: Error {
    /// The exception to report.
    var celeryException: CeleryException { get }
}

/// A task that ended in `FAILURE` (or `REVOKED`): what a publisher waiting for the result throws.
public struct TaskFailed: Error, Sendable, Hashable, CustomStringConvertible, CeleryExceptionConvertible {
    /// The task id.
    public var taskID: String
    /// `FAILURE` or `REVOKED`.
    public var state: TaskState
    /// The exception the task raised.
    public var exception: CeleryException
    /// The formatted traceback, when the worker sent one.
    public var traceback: String?

    /// A failure.
    public init(taskID: String, state: TaskState = .failure, exception: CeleryException, traceback: String? = nil) {
        self.taskID = taskID
        self.state = state
        self.exception = exception
        self.traceback = traceback
    }

    /// The exception class name, e.g. `ValueError`.
    public var type: String { exception.type }
    /// The exception's message.
    public var message: String { exception.message }
    /// The same exception again, when a task that waited on this one fails because of it.
    public var celeryException: CeleryException { exception }

    /// `ValueError: bad value`, as Python prints the exception's last line.
    public var description: String {
        let message = exception.message
        return message.isEmpty ? exception.type : "\(exception.type): \(message)"
    }
}
