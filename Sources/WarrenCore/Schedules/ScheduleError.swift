/// A schedule that Warren refuses: a cron expression it cannot read or that never fires, or an
/// interval that is too short.
///
/// ``description`` names the cron field at fault and what was wrong, short enough to follow a
/// config file's line and key:
///
/// ```
/// minute: 61 is out of range 0-59
/// day-of-week: "FRX" is not a day name
/// expected 5 fields, got 4
/// ```
public struct ScheduleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case syntax, outOfRange, neverFires, intervalTooShort
        }
        private let base: Base

        /// The text is not a cron expression: wrong number of fields, a word that is not a number
        /// or a name, an empty list item, a step that is not a positive number, a backwards range,
        /// an unknown `@` shortcut.
        public static let syntax = Code(base: .syntax)
        /// A number is outside its field's range (minute 0-59, hour 0-23, day of month 1-31,
        /// month 1-12, day of week 0-7).
        public static let outOfRange = Code(base: .outOfRange)
        /// Every field is valid, but no date has them all: `0 0 30 2 *` (February 30th).
        public static let neverFires = Code(base: .neverFires)
        /// An interval schedule shorter than one second.
        public static let intervalTooShort = Code(base: .intervalTooShort)

        /// The code's name: `syntax`, `outOfRange`, `neverFires` or `intervalTooShort`.
        public var description: String { base.rawValue }
    }

    /// What kind of problem this is.
    public var code: Code
    /// The cron field at fault (`minute`, `hour`, `day-of-month`, `month`, `day-of-week`), or
    /// `nil` when the problem is not in one field (the field count, a shortcut, an interval).
    public var field: String?
    /// What was wrong, without the field name: `61 is out of range 0-59`.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: What kind of problem this is.
    ///   - field: The cron field at fault, if any.
    ///   - message: What was wrong, without the field name.
    public init(_ code: Code, field: String? = nil, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    /// `field: message`, or the message alone when no field is at fault.
    public var description: String {
        guard let field else { return message }
        return "\(field): \(message)"
    }
}
