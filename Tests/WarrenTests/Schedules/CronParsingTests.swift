import Testing

@testable import WarrenCore

@Suite("Cron expressions: parsing")
struct CronParsingTests {
    @Test(
        "reads every field syntax",
        arguments: [
            ("*", CronField.Kind.minute, Array(0...59)),
            ("7", .minute, [7]),
            ("07", .minute, [7]),
            ("9-17", .hour, Array(9...17)),
            ("*/15", .minute, [0, 15, 30, 45]),
            ("10-30/10", .minute, [10, 20, 30]),
            ("5/20", .minute, [5, 25, 45]),
            ("1,2,5-7", .dayOfMonth, [1, 2, 5, 6, 7]),
            ("*/10", .dayOfMonth, [1, 11, 21, 31]),
            ("22-23,0-2", .hour, [0, 1, 2, 22, 23]),
            ("0-59/30,7", .minute, [0, 7, 30]),
            ("1-31/40", .dayOfMonth, [1]),
            ("JAN", .month, [1]),
            ("jan,Jul,DEC", .month, [1, 7, 12]),
            ("FEB-APR", .month, [2, 3, 4]),
            ("*/3", .month, [1, 4, 7, 10]),
            ("MAR/3", .month, [3, 6, 9, 12]),
            ("mon-FRI", .dayOfWeek, [1, 2, 3, 4, 5]),
            ("SUN", .dayOfWeek, [0]),
            ("0", .dayOfWeek, [0]),
            ("7", .dayOfWeek, [0]),
            ("5-7", .dayOfWeek, [0, 5, 6]),
            ("0-7", .dayOfWeek, Array(0...6)),
            ("*", .dayOfWeek, Array(0...6)),
            ("*/2", .dayOfWeek, [0, 2, 4, 6]),
            ("sat,sun", .dayOfWeek, [0, 6]),
        ])
    func fieldSyntax(text: String, kind: CronField.Kind, values: [Int]) throws {
        let field = try CronField(parsing: text[...], as: kind)
        #expect(field.values == values)
    }

    @Test("remembers whether a field starts with *", arguments: [("*", true), ("*/2", true), ("1-31", false), ("1", false)])
    func startsWithStar(text: String, expected: Bool) throws {
        #expect(try CronField(parsing: text[...], as: .dayOfMonth).startsWithStar == expected)
    }

    @Test(
        "expands the shortcuts, in any case",
        arguments: [
            ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
            ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
            ("@hourly", "0 * * * *"), ("@DAILY", "0 0 * * *"), ("  @Hourly ", "0 * * * *"),
        ])
    func shortcuts(shortcut: String, fields: String) throws {
        #expect(try CronExpression(shortcut) == CronExpression(fields))
    }

    @Test("keeps the text as written, trimmed, and compares by meaning")
    func textAndEquality() throws {
        let expression = try CronExpression("  30 2 * * *\t")
        #expect(expression.description == "30 2 * * *")
        #expect(try CronExpression("0 0 * * SUN") == CronExpression("0 0 * * 7"))
        #expect(try CronExpression("0 0 * * SUN") == CronExpression("0 0 * * 0"))
        #expect(try CronExpression("0 0 * * SUN").hashValue == CronExpression("0 0 * * 7").hashValue)
        #expect(try CronExpression("0\t0  *   * *") == CronExpression("@daily"))
        #expect(try CronExpression("0 0 * * 1") != CronExpression("0 0 * * 2"))
        // `*` and `1-31` allow the same days but combine with day of week differently.
        #expect(try CronExpression("0 0 * * 1") != CronExpression("0 0 1-31 * 1"))
    }

    @Test(
        "accepts schedules that fire rarely but do fire",
        arguments: ["0 0 29 2 *", "0 0 31 * *", "0 0 30 2 MON", "0 0 31 APR-MAY *", "0 0 30,31 2,4 *", "59 23 31 12 *"])
    func rareButPossible(text: String) {
        #expect(throws: Never.self) { try CronExpression(text) }
    }

    @Test(
        "refuses mistakes, naming the field and what is wrong",
        arguments: [
            ("61 * * * *", ScheduleError.Code.outOfRange, "minute: 61 is out of range 0-59"),
            ("* 24 * * *", .outOfRange, "hour: 24 is out of range 0-23"),
            ("* * 0 * *", .outOfRange, "day-of-month: 0 is out of range 1-31"),
            ("* * 32 * *", .outOfRange, "day-of-month: 32 is out of range 1-31"),
            ("* * * 13 *", .outOfRange, "month: 13 is out of range 1-12"),
            ("* * * 0 *", .outOfRange, "month: 0 is out of range 1-12"),
            ("* * * * 8", .outOfRange, "day-of-week: 8 is out of range 0-7"),
            ("1-99 * * * *", .outOfRange, "minute: 99 is out of range 0-59"),
            ("99999999999999999999 * * * *", .outOfRange, "minute: 99999999999999999999 is out of range 0-59"),
            ("* * * * FRX", .syntax, "day-of-week: \"FRX\" is not a day name"),
            ("* * * * MONDAY", .syntax, "day-of-week: \"MONDAY\" is not a day name"),
            ("* * * JANX *", .syntax, "month: \"JANX\" is not a month name"),
            ("* * * * 1x", .syntax, "day-of-week: \"1x\" is not a number or a day name"),
            ("x * * * *", .syntax, "minute: \"x\" is not a number"),
            ("* * MON * *", .syntax, "day-of-month: \"MON\" is not a number"),
            ("* * * *", .syntax, "expected 5 fields, got 4"),
            ("* * * * * *", .syntax, "expected 5 fields, got 6"),
            ("", .syntax, "expected 5 fields, got 0"),
            ("1,,2 * * * *", .syntax, "minute: empty item in \"1,,2\""),
            ("1, * * * *", .syntax, "minute: empty item in \"1,\""),
            ("*/0 * * * *", .syntax, "minute: step 0 must be at least 1"),
            ("*/x * * * *", .syntax, "minute: step \"x\" is not a number"),
            ("*/ * * * *", .syntax, "minute: step \"\" is not a number"),
            ("1/2/3 * * * *", .syntax, "minute: \"1/2/3\" has more than one step"),
            ("1-2-3 * * * *", .syntax, "minute: \"1-2-3\" is not a value or a range a-b"),
            ("-5 * * * *", .syntax, "minute: \"-5\" is not a value or a range a-b"),
            ("* 20-5 * * *", .syntax, "hour: range 20-5 runs backwards; write it as 20-23,0-5"),
            ("* * * * FRI-MON", .syntax, "day-of-week: range FRI-MON runs backwards; write it as 5-6,0-1"),
            (
                "@reboot", .syntax,
                "unknown shortcut \"@reboot\"; expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"
            ),
            ("0 0 30 2 *", .neverFires, "day-of-month: 30 never occurs in month 2, so the schedule never fires"),
            (
                "0 0 31 APR,JUN,SEP,NOV *", .neverFires,
                "day-of-month: 31 never occurs in months APR,JUN,SEP,NOV, so the schedule never fires"
            ),
            ("0 0 30-31 FEB */2", .neverFires, "day-of-month: 30-31 never occurs in month FEB, so the schedule never fires"),
        ])
    func errors(text: String, code: ScheduleError.Code, message: String) {
        #expect {
            try CronExpression(text)
        } throws: { error in
            guard let error = error as? ScheduleError else { return false }
            return error.code == code && error.description == message
        }
    }

    @Test("an error keeps the field apart from the message")
    func errorParts() {
        do {
            _ = try CronExpression("61 * * * *")
            Issue.record("parsed an out-of-range minute")
        } catch {
            #expect(error.field == "minute")
            #expect(error.message == "61 is out of range 0-59")
            #expect(error.code.description == "outOfRange")
        }
    }
}
