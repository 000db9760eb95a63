import Foundation

/// Reads and writes the ISO-8601 times of Celery's `eta`, `expires` and `date_done`.
///
/// Celery writes Python's `datetime.isoformat()` of an aware time, e.g.
/// `2025-01-01T12:00:00.123456+00:00` (no fraction when the microseconds are 0), and reads with
/// `dateutil.parser.isoparse`; a time without an offset is UTC (protocol v2: "Always UTC").
package enum CeleryTime {
    /// Parses `YYYY-MM-DD` or `YYYYMMDD`, optionally followed by `T`, `t` or a space and a time
    /// `HH[:MM[:SS[.fraction]]]` (or `HHMM[SS]`), optionally followed by `Z` or an offset
    /// `±HH[:MM[:SS]]` / `±HHMM`. Fractions may have any number of digits (`.` or `,`).
    /// A missing offset means UTC. Returns `nil` for anything else or an impossible date.
    package static func parse(_ text: String) -> Date? {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.digits(4) else { return nil }
        let month: Int
        let day: Int
        if scanner.take("-") {
            guard let m = scanner.digits(2), scanner.take("-"), let d = scanner.digits(2) else { return nil }
            (month, day) = (m, d)
        } else {
            guard let m = scanner.digits(2), let d = scanner.digits(2) else { return nil }
            (month, day) = (m, d)
        }
        guard (1...12).contains(month), (1...daysInMonth(month, year: year)).contains(day) else { return nil }

        var hour = 0
        var minute = 0
        var second = 0
        var fraction = 0.0
        var offset = 0
        if !scanner.atEnd {
            guard scanner.take("T") || scanner.take("t") || scanner.take(" ") else { return nil }
            guard let h = scanner.digits(2) else { return nil }
            hour = h
            if scanner.take(":") {
                guard let m = scanner.digits(2) else { return nil }
                minute = m
                if scanner.take(":") {
                    guard let s = scanner.digits(2) else { return nil }
                    second = s
                    guard let f = scanner.fraction() else { return nil }
                    fraction = f
                }
            } else if let m = scanner.digits(2) {
                minute = m
                if let s = scanner.digits(2) {
                    second = s
                    guard let f = scanner.fraction() else { return nil }
                    fraction = f
                }
            }
            if scanner.take("Z") || scanner.take("z") {
                offset = 0
            } else if let sign = scanner.sign() {
                guard let oh = scanner.digits(2), oh <= 23 else { return nil }
                var om = 0
                var os = 0
                if scanner.take(":") {
                    guard let m = scanner.digits(2) else { return nil }
                    om = m
                    if scanner.take(":") {
                        guard let s = scanner.digits(2) else { return nil }
                        os = s
                    }
                } else if let m = scanner.digits(2) {
                    om = m
                }
                guard om <= 59, os <= 59 else { return nil }
                offset = sign * (oh * 3600 + om * 60 + os)
            }
            guard scanner.atEnd else { return nil }
        }
        guard minute <= 59, second <= 59 else { return nil }
        // ISO 8601 allows 24:00 for the end of a day, as dateutil does.
        guard hour <= 23 || (hour == 24 && minute == 0 && second == 0 && fraction == 0) else { return nil }

        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Whether `date` lies in the years Python's `datetime` holds, 1 to 9999 (in UTC): the times
    /// ``format(_:)`` writes and ``parse(_:)`` reads back. (The last microseconds of 9999 are
    /// out: a `Date` that far out holds steps of about 30 µs and rounds them up to the year 10000.)
    static func representable(_ date: Date) -> Bool {
        let seconds = date.timeIntervalSince1970
        return seconds >= -62_135_596_800 && seconds < 253_402_300_800  // 0001-01-01 and 10000-01-01
    }

    /// Formats like Python's `datetime.isoformat()` of a UTC-aware time:
    /// `2025-01-01T12:00:00.123456+00:00`, or without the fraction when its microseconds are 0
    /// or `fractionalSeconds` is false. The one way Warren writes a time: in messages, dead
    /// letters, JSON logs and `status` (text logs use local time, as journald shows it).
    package static func format(_ date: Date, fractionalSeconds: Bool = true) -> String {
        // Dates beyond ±290 000 years cannot be counted in microseconds; they print as 1970.
        let micros = Int64(exactly: (date.timeIntervalSince1970 * 1_000_000).rounded()) ?? 0
        var (days, microOfDay) = micros.quotientAndRemainder(dividingBy: 86_400_000_000)
        if microOfDay < 0 {
            days -= 1
            microOfDay += 86_400_000_000
        }
        let (year, month, day) = civilFromDays(Int(days))
        let secondOfDay = Int(microOfDay / 1_000_000)
        let micro = Int(microOfDay % 1_000_000)
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
        text += "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        if micro != 0, fractionalSeconds { text += ".\(pad(micro, 6))" }
        return text + "+00:00"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position == bytes.count }

        mutating func take(_ character: Unicode.Scalar) -> Bool {
            guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { return false }
            position += 1
            return true
        }

        mutating func digits(_ count: Int) -> Int? {
            guard position + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[position..<position + count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            position += count
            return value
        }

        /// An optional `.digits` or `,digits`; `nil` when the separator has no digits after it.
        mutating func fraction() -> Double? {
            guard take(".") || take(",") else { return 0 }
            let start = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                position += 1
            }
            guard position > start else { return nil }
            return Double("0." + String(decoding: bytes[start..<position], as: UTF8.self))
        }

        mutating func sign() -> Int? {
            if take("+") { return 1 }
            if take("-") { return -1 }
            return nil
        }
    }
}
