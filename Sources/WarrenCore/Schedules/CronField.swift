/// One of the five fields of a cron expression: the set of values it allows.
///
/// The values are kept as bits of a `UInt64` (bit `v` set when `v` is allowed), so that matching
/// is one test and finding the next allowed value is one count of trailing zeros. Day of week 7
/// is folded into 0 (both are Sunday) when the field is parsed.
struct CronField: Hashable, Sendable {
    /// Which field this is: its name in messages, its range and its names.
    enum Kind: Sendable {
        case minute, hour, dayOfMonth, month, dayOfWeek

        /// The name used in error messages: `minute`, `hour`, `day-of-month`, `month`, `day-of-week`.
        var name: String {
            switch self {
            case .minute: "minute"
            case .hour: "hour"
            case .dayOfMonth: "day-of-month"
            case .month: "month"
            case .dayOfWeek: "day-of-week"
            }
        }

        /// The numbers this field accepts as written (day of week 7 is Sunday, like 0).
        var bounds: ClosedRange<Int> {
            switch self {
            case .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        /// The three-letter names this field accepts, in upper case, and the number of the first.
        var names: (words: [String], first: Int)? {
            switch self {
            case .month: (["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)
            case .dayOfWeek: (["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 0)
            default: nil
            }
        }

        /// What a name of this field is called in messages: `month name` or `day name`.
        var nameNoun: String? {
            switch self {
            case .month: "month name"
            case .dayOfWeek: "day name"
            default: nil
            }
        }
    }

    /// The allowed values: bit `v` is set when `v` is allowed.
    let bits: UInt64
    /// Whether the field as written starts with `*` (`*` or `*/n`). Vixie cron uses this, not the
    /// set of values, to decide how day of month and day of week combine.
    let startsWithStar: Bool

    /// Whether `value` is allowed.
    func contains(_ value: Int) -> Bool {
        value >= 0 && value < 64 && bits & (1 << UInt64(value)) != 0
    }

    /// The smallest allowed value that is at least `value`, or `nil` if there is none.
    func first(atLeast value: Int) -> Int? {
        guard value < 64 else { return nil }
        let mask = value <= 0 ? bits : bits & ~((1 << UInt64(value)) - 1)
        return mask == 0 ? nil : mask.trailingZeroBitCount
    }

    /// The largest allowed value that is at most `value`, or `nil` if there is none.
    func last(atMost value: Int) -> Int? {
        guard value >= 0 else { return nil }
        let mask = value >= 63 ? bits : bits & ((1 << UInt64(value + 1)) - 1)
        return mask == 0 ? nil : 63 - mask.leadingZeroBitCount
    }

    /// The smallest allowed value (every parsed field allows at least one).
    var lowest: Int { bits.trailingZeroBitCount }
    /// The largest allowed value (every parsed field allows at least one).
    var highest: Int { 63 - bits.leadingZeroBitCount }
}
