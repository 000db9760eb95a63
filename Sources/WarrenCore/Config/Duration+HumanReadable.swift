extension Duration {
    /// Reads a human-readable duration: `500ms`, `30s`, `10m`, `1h`, `2d`, combinations written
    /// from the largest unit to the smallest (`1h30m`, `1m30s`) and decimals (`1.5s`, `0.5h`).
    ///
    /// The units are `ms`, `s`, `m` (minutes), `h` and `d` (24 hours). A bare number is refused,
    /// because `30` could mean seconds or milliseconds; only `0` may be written without a unit.
    /// Spaces, signs and units out of order (`30s1m`) are refused too. The value must be a whole
    /// number of nanoseconds.
    ///
    /// - Parameter text: The text to read, for example from the config file or a command line.
    /// - Returns: `nil` when `text` is not a duration in this form.
    public init?(humanReadable text: String) {
        guard case .success(let duration) = HumanDurationParser.parse(text) else { return nil }
        self = duration
    }

    /// This duration in the form ``init(humanReadable:)`` reads, largest unit first:
    /// `1h30m`, `1m30s`, `1.5s`, `500ms`, `0s`.
    ///
    /// Sub-nanosecond parts are dropped; a negative duration prints with a leading `-`, which
    /// ``init(humanReadable:)`` does not read back.
    public var humanReadable: String {
        HumanDurationParser.format(self)
    }
}

/// Reads and prints durations in Warren's human-readable form (see ``Swift/Duration/init(humanReadable:)``).
enum HumanDurationParser {
    /// A unit of a duration, from the smallest to the largest.
    private struct Unit {
        var symbol: String
        var nanoseconds: Int64
    }

    private static let units: [Unit] = [
        Unit(symbol: "ms", nanoseconds: 1_000_000),
        Unit(symbol: "s", nanoseconds: 1_000_000_000),
        Unit(symbol: "m", nanoseconds: 60 * 1_000_000_000),
        Unit(symbol: "h", nanoseconds: 3_600 * 1_000_000_000),
        Unit(symbol: "d", nanoseconds: 86_400 * 1_000_000_000),
    ]

    /// The units as a config file's error message lists them.
    static let unitList = "ms, s, m, h or d"

    /// Reads `text`; a failure says why when there is more to say than "not a duration".
    static func parse(_ text: String) -> Result<Duration, HumanValueFailure> {
        if text.isEmpty { return .failure(HumanValueFailure(detail: nil)) }
        if text == "0" { return .success(.zero) }
        if text.first == "-" {
            return .failure(HumanValueFailure(detail: "a duration cannot be negative"))
        }
        var rest = Substring(text)
        var total: Int64 = 0
        var previousRank = units.count
        while !rest.isEmpty {
            guard let (number, length) = DecimalQuantity.prefix(of: rest) else {
                if rest.first?.isWhitespace == true, total > 0 {
                    return .failure(HumanValueFailure(detail: "write it without spaces, like 1h30m"))
                }
                return .failure(HumanValueFailure(detail: nil))
            }
            rest = rest.dropFirst(length)
            let symbol = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(symbol.count)
            if symbol.isEmpty {
                if rest.isEmpty {
                    return .failure(HumanValueFailure(detail: "a number needs a unit: \(unitList)"))
                }
                if rest.first?.isWhitespace == true {
                    return .failure(HumanValueFailure(detail: "write it without spaces, like 1h30m"))
                }
                return .failure(HumanValueFailure(detail: nil))
            }
            guard let rank = units.firstIndex(where: { $0.symbol == symbol }) else {
                return .failure(
                    HumanValueFailure(
                        detail: "unknown unit \(ErrorText.quoted(String(symbol), limit: ConfigKeyPath.quotedLimit)); use \(unitList)"))
            }
            guard rank < previousRank else {
                return .failure(
                    HumanValueFailure(detail: "write the units from the largest to the smallest, each once, like 1h30m"))
            }
            previousRank = rank
            switch number.scaled(by: units[rank].nanoseconds) {
            case .success(let nanoseconds):
                let (sum, overflow) = total.addingReportingOverflow(nanoseconds)
                if overflow { return .failure(HumanValueFailure(detail: "too long")) }
                total = sum
            case .failure(.fraction):
                return .failure(HumanValueFailure(detail: "finer than a nanosecond"))
            case .failure(.overflow):
                return .failure(HumanValueFailure(detail: "too long"))
            }
        }
        return .success(.nanoseconds(total))
    }

    /// Prints `duration` so that ``parse(_:)`` reads it back (for non-negative durations).
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || attoseconds < 0 {
            return "-" + format(.zero - duration)
        }
        let nanosecondsPerSecond: Int64 = 1_000_000_000
        var wholeSeconds = seconds
        var text = ""
        for (symbol, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60)] where wholeSeconds >= size {
            text += "\(wholeSeconds / size)\(symbol)"
            wholeSeconds %= size
        }
        let nanoseconds = attoseconds / 1_000_000_000
        if wholeSeconds == 0 && nanoseconds == 0 {
            return text.isEmpty ? "0s" : text
        }
        if wholeSeconds == 0 && text.isEmpty {
            return formatDecimal(nanoseconds, decimals: 6) + "ms"
        }
        return text + formatDecimal(wholeSeconds * nanosecondsPerSecond + nanoseconds, decimals: 9) + "s"
    }
}

/// Why a human-readable value (a duration, a size) could not be read.
struct HumanValueFailure: Error, Equatable {
    /// A precise reason, or `nil` when "expected a duration like …" says it all.
    var detail: String?
}
