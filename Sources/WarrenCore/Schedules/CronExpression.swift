/// A cron schedule: five fields, `minute hour day-of-month month day-of-week`, or a shortcut.
///
/// Each field is `*`, a number, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (from `a` to the
/// field's end), or a comma-separated list of these. Months may be written `JAN`-`DEC` and days
/// of the week `SUN`-`SAT`, in any case; day of week 0 and 7 are both Sunday. The shortcuts are
/// `@yearly` (or `@annually`), `@monthly`, `@weekly`, `@daily` (or `@midnight`) and `@hourly`.
///
/// Day of month and day of week combine as in Vixie cron: when both fields are restricted (neither
/// starts with `*`), a day matches if *either* matches, so `0 0 1,15 * MON` fires on the 1st, the
/// 15th and every Monday; when one of them starts with `*` (this includes `*/2`), a day must
/// match both, which in the usual case `*` means the other field alone.
///
/// The parser refuses expressions that can never fire (`0 0 30 2 *`, `0 0 31 APR,JUN *`), so
/// ``next(after:in:)`` finds a time for every expression it accepts.
///
/// Two expressions are equal when their fields allow the same values and combine the days the
/// same way, whatever the text: `@daily` equals `0 0 * * *` and `0 0 * * SUN` equals `0 0 * * 7`.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The expression as written, trimmed of surrounding spaces.
    public let description: String

    let minutes: CronField
    let hours: CronField
    let daysOfMonth: CronField
    let months: CronField
    let daysOfWeek: CronField

    /// Reads a cron expression.
    ///
    /// - Parameter text: Five fields separated by spaces or tabs, or one of the `@` shortcuts.
    /// - Throws: ``ScheduleError`` whose description names the field and what is wrong in it,
    ///   for example `minute: 61 is out of range 0-59` or `expected 5 fields, got 4`.
    public init(_ text: String) throws(ScheduleError) {
        let trimmed = text.trimmingSpaces
        let expanded = try Self.expandingShortcut(trimmed)
        let words = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count == 5 else {
            throw ScheduleError(.syntax, "expected 5 fields, got \(words.count)")
        }
        self.description = trimmed
        minutes = try CronField(parsing: words[0], as: .minute)
        hours = try CronField(parsing: words[1], as: .hour)
        daysOfMonth = try CronField(parsing: words[2], as: .dayOfMonth)
        months = try CronField(parsing: words[3], as: .month)
        daysOfWeek = try CronField(parsing: words[4], as: .dayOfWeek)
        try checkSomeDayExists(daysOfMonthText: words[2], monthsText: words[3])
    }

    /// Builds an expression from parsed fields, skipping the check that it can fire (for tests).
    init(minutes: CronField, hours: CronField, daysOfMonth: CronField, months: CronField, daysOfWeek: CronField) {
        self.description = "(fields)"
        self.minutes = minutes
        self.hours = hours
        self.daysOfMonth = daysOfMonth
        self.months = months
        self.daysOfWeek = daysOfWeek
    }

    /// The five fields a shortcut stands for, or `text` itself when it is not a shortcut.
    private static func expandingShortcut(_ text: String) throws(ScheduleError) -> String {
        guard text.hasPrefix("@") else { return text }
        switch text.lowercased() {
        case "@yearly", "@annually": return "0 0 1 1 *"
        case "@monthly": return "0 0 1 * *"
        case "@weekly": return "0 0 * * 0"
        case "@daily", "@midnight": return "0 0 * * *"
        case "@hourly": return "0 * * * *"
        default:
            throw ScheduleError(
                .syntax,
                "unknown shortcut \"\(text)\"; expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly")
        }
    }

    /// Refuses day-of-month and month fields that name no real date, when day of week cannot
    /// make up for it (it only can when both day fields are restricted: then either may match).
    private func checkSomeDayExists(daysOfMonthText: Substring, monthsText: Substring) throws(ScheduleError) {
        if !daysOfMonth.startsWithStar && !daysOfWeek.startsWithStar { return }
        // Every date falls on every day of the week in some year, so a month with one of the days is enough.
        let longestMonth = (1...12).filter(months.contains).map { WallClock.daysInMonth(year: 2000, month: $0) }.max() ?? 0
        guard daysOfMonth.lowest > longestMonth else { return }
        let monthNoun = months.lowest == months.highest ? "month" : "months"
        throw ScheduleError(
            .neverFires, field: CronField.Kind.dayOfMonth.name,
            "\(daysOfMonthText) never occurs in \(monthNoun) \(monthsText), so the schedule never fires")
    }

    /// Equal when every field allows the same values (the text may differ).
    public static func == (lhs: CronExpression, rhs: CronExpression) -> Bool {
        lhs.minutes == rhs.minutes && lhs.hours == rhs.hours && lhs.daysOfMonth == rhs.daysOfMonth
            && lhs.months == rhs.months && lhs.daysOfWeek == rhs.daysOfWeek
    }

    /// Hashes the fields, not the text, consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(minutes)
        hasher.combine(hours)
        hasher.combine(daysOfMonth)
        hasher.combine(months)
        hasher.combine(daysOfWeek)
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    fileprivate var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
