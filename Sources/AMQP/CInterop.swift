internal import CRabbitMQ

// Helpers at the C boundary. librabbitmq's `amqp_bytes_t` is a (length, pointer) pair that owns
// nothing: these helpers only build one inside a scope (`withAMQPBytes`) or copy one out.

extension String {
    /// Calls `body` with this string's UTF-8 as `amqp_bytes_t`, valid only inside `body`.
    /// (`amqp_cstring_bytes(swiftString)` compiles but dangles once the call returns.)
    func withAMQPBytes<R>(_ body: (amqp_bytes_t) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8 { buffer in
            try body(amqp_bytes_t(len: buffer.count, bytes: UnsafeMutableRawPointer(mutating: buffer.baseAddress)))
        }
    }

    /// Copies librabbitmq bytes into a String (invalid UTF-8 is repaired, never trapped on).
    init(amqpBytes bytes: amqp_bytes_t) {
        guard bytes.len > 0, let base = bytes.bytes else {
            self = ""
            return
        }
        self = String(decoding: UnsafeRawBufferPointer(start: base, count: bytes.len), as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    /// Copies librabbitmq bytes into a Swift array.
    init(amqpBytes bytes: amqp_bytes_t) {
        guard bytes.len > 0, let base = bytes.bytes else {
            self = []
            return
        }
        self = Array(UnsafeRawBufferPointer(start: base, count: bytes.len))
    }
}

extension Optional where Wrapped == String {
    /// Calls `body` with the string's bytes, or with empty bytes for `nil`.
    func withAMQPBytes<R>(_ body: (amqp_bytes_t) throws -> R) rethrows -> R {
        switch self {
        case .some(let s): try s.withAMQPBytes(body)
        case .none: try body(amqp_empty_bytes)
        }
    }
}

/// librabbitmq's text for a status code, e.g. "a socket error occurred".
func amqpStatusText(_ status: Int32) -> String {
    String(cString: amqp_error_string2(status))
}

/// The AMQP name of a method, e.g. "queue.declare" for 0x0032000A.
func amqpMethodName(classID: UInt16, methodID: UInt16) -> String {
    let number = (amqp_method_number_t(classID) << 16) | amqp_method_number_t(methodID)
    guard let name = amqp_method_name(number) else { return "\(classID).\(methodID)" }
    // librabbitmq names them "AMQP_QUEUE_DECLARE_METHOD"; show AMQP's own spelling.
    var text = String(cString: name)
    if text.hasPrefix("AMQP_") { text.removeFirst(5) }
    if text.hasSuffix("_METHOD") { text.removeLast(7) }
    return text.lowercased().replacingFirstUnderscoreWithDot()
}

extension String {
    fileprivate func replacingFirstUnderscoreWithDot() -> String {
        guard let i = firstIndex(of: "_") else { return self }
        var s = self
        s.replaceSubrange(i...i, with: ".")
        return s.replacingOccurrences(of: "_", with: "-")
    }

    fileprivate func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}

// Method numbers (class << 16 | method). librabbitmq defines them as cast macros, which Swift
// does not import.
enum AMQPMethod {
    static let connectionClose: amqp_method_number_t = 0x000A_0032
    static let connectionCloseOK: amqp_method_number_t = 0x000A_0033
    static let connectionBlocked: amqp_method_number_t = 0x000A_003C
    static let connectionUnblocked: amqp_method_number_t = 0x000A_003D
    static let channelClose: amqp_method_number_t = 0x0014_0028
    static let channelCloseOK: amqp_method_number_t = 0x0014_0029
    static let channelFlow: amqp_method_number_t = 0x0014_0014
    static let basicDeliver: amqp_method_number_t = 0x003C_003C
    static let basicReturn: amqp_method_number_t = 0x003C_0032
    static let basicAck: amqp_method_number_t = 0x003C_0050
    static let basicNack: amqp_method_number_t = 0x003C_0078
    static let basicCancel: amqp_method_number_t = 0x003C_001E
    static let basicCancelOK: amqp_method_number_t = 0x003C_001F
    static let basicGetOK: amqp_method_number_t = 0x003C_0047
    static let basicGetEmpty: amqp_method_number_t = 0x003C_0048
    static let confirmSelect: amqp_method_number_t = 0x0055_000A
    static let confirmSelectOK: amqp_method_number_t = 0x0055_000B
}
