/// A handler argument type that also accepts positional arguments, by naming them in order
/// like a Python signature.
///
/// ```swift
/// struct AddArgs: Codable, Sendable, PositionalArguments {
///     static let argumentNames = ["a", "b"]   // def add(a, b)
///     var a: Int
///     var b: Int
/// }
/// ```
/// Now `args [2, 3]`, `kwargs {"a": 2, "b": 3}` and `args [2], kwargs {"b": 3}` all decode to
/// `AddArgs(a: 2, b: 3)`.
public protocol PositionalArguments {
    /// The names positional arguments are bound to, in order.
    static var argumentNames: [String] { get }
}

/// How a task's `args` and `kwargs` become a handler's `Decodable` argument value.
///
/// Positional arguments are bound to names the way Python binds them to parameters, then the
/// type decodes from the result, so the type decides what it accepts:
/// - A **keyed** type (a struct with properties) decodes from `kwargs`. Positional `args` are
///   allowed only when it names them — ``PositionalArguments/argumentNames`` or the
///   `argumentNames` given at registration — and are bound to those names first. Too many
///   positional arguments, or one also given by keyword, is an error, as in Python.
/// - An **unkeyed** type (an array, or a type whose `init(from:)` reads an unkeyed container)
///   decodes from `args`; keyword arguments are then an error.
/// - ``JSONValue`` gets the kwargs object when there are no args, the args array when there
///   are no kwargs. ``JSONObject`` gets the kwargs.
///
/// Values decode with ``JSONValueDecoder``: integers exact, dates, UUIDs and decimals also from
/// kombu's type markers.
public enum TaskArguments {
    /// Decodes a handler's argument value.
    /// - Parameters:
    ///   - type: The handler's argument type.
    ///   - args: The positional arguments.
    ///   - kwargs: The keyword arguments.
    ///   - argumentNames: The names of the positional arguments; defaults to the type's
    ///     ``PositionalArguments/argumentNames``, if it has them.
    /// - Throws: ``EnvelopeError`` with code ``EnvelopeError/Code/invalidArguments`` saying which
    ///   argument did not fit and why.
    public static func decode<T: Decodable>(
        _ type: T.Type = T.self, args: [JSONValue], kwargs: JSONObject, argumentNames: [String]? = nil
    ) throws(EnvelopeError) -> T {
        let names = argumentNames ?? (T.self as? any PositionalArguments.Type)?.argumentNames
        do {
            return try JSONValueDecoder().decodeArguments(T.self, args: args, kwargs: kwargs, argumentNames: names)
        } catch let error as DecodingError {
            throw EnvelopeError(.invalidArguments, "arguments do not fit \(T.self): \(describe(error))")
        } catch {
            throw EnvelopeError(.invalidArguments, "arguments do not fit \(T.self): \(error)")
        }
    }

    /// A readable account of a decoding error: where (`'a'`, `args[1]`, `'items'[0].name`) and what.
    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            let path = context.codingPath + [key]
            return path.count == 1 ? "missing argument '\(ErrorText.escaped(key.stringValue))'" : "missing \(format(path))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let message = context.debugDescription
            return context.codingPath.isEmpty ? message : "\(format(context.codingPath)): \(message)"
        @unknown default:
            return "\(error)"
        }
    }

    /// The path as text; keys can come from the client (the keys of a dictionary argument), so
    /// they are shown escaped (found by fuzzing).
    private static func format(_ path: [any CodingKey]) -> String {
        var text = ""
        for (i, key) in path.enumerated() {
            if let index = key.intValue {
                text += i == 0 ? "args[\(index)]" : "[\(index)]"
            } else {
                let name = ErrorText.escaped(key.stringValue)
                text += i == 0 ? "'\(name)'" : ".\(name)"
            }
        }
        return text
    }
}

extension TaskMessage {
    /// Decodes the task's arguments into a handler's argument type; see ``TaskArguments``.
    /// - Parameters:
    ///   - type: The handler's argument type.
    ///   - argumentNames: The names of the positional arguments; defaults to the type's
    ///     ``PositionalArguments/argumentNames``, if it has them.
    /// - Throws: ``EnvelopeError`` with code ``EnvelopeError/Code/invalidArguments``, carrying
    ///   this task's name and id.
    public func decodeArguments<T: Decodable>(
        as type: T.Type = T.self, argumentNames: [String]? = nil
    ) throws(EnvelopeError) -> T {
        do {
            return try TaskArguments.decode(type, args: args, kwargs: kwargs, argumentNames: argumentNames)
        } catch {
            var error = error
            error.taskName = name
            error.taskID = id
            throw error
        }
    }
}
