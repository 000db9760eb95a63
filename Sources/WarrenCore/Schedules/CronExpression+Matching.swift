extension CronExpression {
    /// How far the searches look, in years, before giving up: a whole Gregorian cycle, after
    /// which dates fall on the same days of the week again. Every expression the parser accepts
    /// matches well within it (February 29th comes every 8 years at most, and even a February
    /// 29th that must be a Sunday within decades); the bound only guarantees that a search ends,
    /// which takes about 2 ms.
    static let searchYears = 400

    /// Whether the expression fires on a date, combining day of month and day of week as Vixie
    /// cron does: either may match when both are restricted, both must match otherwise.
    func matchesDay(year: Int, month: Int, day: Int) -> Bool {
        let dayOfMonthMatches = daysOfMonth.contains(day)
        let dayOfWeekMatches = daysOfWeek.contains(WallClock.weekday(year: year, month: month, day: day))
        if daysOfMonth.startsWithStar || daysOfWeek.startsWithStar {
            return dayOfMonthMatches && dayOfWeekMatches
        }
        return dayOfMonthMatches || dayOfWeekMatches
    }

    /// The first wall-clock time at or after `start` that matches every field, or `nil` when
    /// there is none before year `lastYear` ends. It skips whole months, days and hours at a time.
    func firstMatch(atOrAfter start: WallClock, throughYear lastYear: Int) -> WallClock? {
        var (year, month, day, hour, minute) = (start.year, start.month, start.day, start.hour, start.minute)
        while year <= lastYear {
            guard let nextMonth = months.first(atLeast: month) else {
                (year, month, day, hour, minute) = (year + 1, 1, 1, 0, 0)
                continue
            }
            if nextMonth != month { (month, day, hour, minute) = (nextMonth, 1, 0, 0) }
            guard day <= WallClock.daysInMonth(year: year, month: month) else {
                (month, day, hour, minute) = (month + 1, 1, 0, 0)
                continue
            }
            guard matchesDay(year: year, month: month, day: day) else {
                (day, hour, minute) = (day + 1, 0, 0)
                continue
            }
            guard let nextHour = hours.first(atLeast: hour) else {
                (day, hour, minute) = (day + 1, 0, 0)
                continue
            }
            if nextHour != hour { (hour, minute) = (nextHour, 0) }
            guard let nextMinute = minutes.first(atLeast: minute) else {
                (hour, minute) = (hour + 1, 0)
                continue
            }
            return WallClock(year: year, month: month, day: day, hour: hour, minute: nextMinute)
        }
        return nil
    }

    /// The last wall-clock time at or before `start` that matches every field, or `nil` when
    /// there is none since year `firstYear` began. It skips whole months, days and hours at a time.
    func lastMatch(atOrBefore start: WallClock, sinceYear firstYear: Int) -> WallClock? {
        var (year, month, day, hour, minute) = (start.year, start.month, start.day, start.hour, start.minute)
        while year >= firstYear {
            guard let previousMonth = months.last(atMost: month) else {
                (year, month, day, hour, minute) = (year - 1, 12, 31, 23, 59)
                continue
            }
            if previousMonth != month { (month, day, hour, minute) = (previousMonth, 31, 23, 59) }
            let monthLength = WallClock.daysInMonth(year: year, month: month)
            if day > monthLength { (day, hour, minute) = (monthLength, 23, 59) }
            guard day >= 1 else {
                (month, day, hour, minute) = (month - 1, 31, 23, 59)
                continue
            }
            guard matchesDay(year: year, month: month, day: day) else {
                (day, hour, minute) = (day - 1, 23, 59)
                continue
            }
            guard let previousHour = hours.last(atMost: hour) else {
                (day, hour, minute) = (day - 1, 23, 59)
                continue
            }
            if previousHour != hour { (hour, minute) = (previousHour, 59) }
            guard let previousMinute = minutes.last(atMost: minute) else {
                (hour, minute) = (hour - 1, 59)
                continue
            }
            return WallClock(year: year, month: month, day: day, hour: hour, minute: previousMinute)
        }
        return nil
    }
}
