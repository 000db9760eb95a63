extension CronField {
    /// Reads one field: a comma-separated list of items, each `*`, a number or name, or a range
    /// `a-b`, optionally followed by a step `/n` (`*/n`, `a-b/n`, and `a/n` meaning `a` to the
    /// field's maximum). Names are three letters, in any case.
    ///
    /// - Parameters:
    ///   - text: The field as written, without spaces.
    ///   - kind: Which field it is.
    /// - Throws: ``ScheduleError`` naming the field and the word at fault.
    init(parsing text: Substring, as kind: Kind) throws(ScheduleError) {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else {
                throw ScheduleError(.syntax, field: kind.name, "empty item in \"\(text)\"")
            }
            bits |= try Self.parseItem(item, as: kind)
        }
        if kind == .dayOfWeek, bits & (1 << 7) != 0 {
            bits = (bits & ~(1 << 7)) | 1  // 7 is Sunday, like 0
        }
        self.init(bits: bits, startsWithStar: text.hasPrefix("*"))
    }

    /// The values of one list item, as bits.
    private static func parseItem(_ item: Substring, as kind: Kind) throws(ScheduleError) -> UInt64 {
        let parts = item.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            throw ScheduleError(.syntax, field: kind.name, "\"\(item)\" has more than one step")
        }
        let step = try parts.count == 2 ? parseStep(parts[1], as: kind) : 1
        let range = try parseRange(parts[0], as: kind)
        // `a/n` runs from a to the end of the field, as in cronie and most modern crons.
        let upper = parts.count == 2 && range.isSingle ? kind.bounds.upperBound : range.upper
        var bits: UInt64 = 0
        for value in stride(from: range.lower, through: upper, by: step) {
            bits |= 1 << UInt64(value)
        }
        return bits
    }

    /// The bounds of `*`, a single value or `a-b`.
    private static func parseRange(
        _ text: Substring, as kind: Kind
    ) throws(ScheduleError) -> (lower: Int, upper: Int, isSingle: Bool) {
        if text == "*" { return (kind.bounds.lowerBound, kind.bounds.upperBound, false) }
        let ends = text.split(separator: "-", omittingEmptySubsequences: false)
        guard !ends.contains(where: \.isEmpty) else {
            throw ScheduleError(.syntax, field: kind.name, "\"\(text)\" is not a value or a range a-b")
        }
        switch ends.count {
        case 1:
            let value = try parseValue(ends[0], as: kind)
            return (value, value, true)
        case 2:
            let lower = try parseValue(ends[0], as: kind)
            let upper = try parseValue(ends[1], as: kind)
            guard lower <= upper else {
                // Say how to write a range that wraps around; day of week 7 is an alias.
                let top = kind == .dayOfWeek ? 6 : kind.bounds.upperBound
                let bottom = kind.bounds.lowerBound
                throw ScheduleError(
                    .syntax, field: kind.name,
                    "range \(text) runs backwards; write it as \(lower)-\(top),\(bottom)-\(upper)")
            }
            return (lower, upper, false)
        default:
            throw ScheduleError(.syntax, field: kind.name, "\"\(text)\" is not a value or a range a-b")
        }
    }

    /// A step: a whole number of at least 1.
    private static func parseStep(_ text: Substring, as kind: Kind) throws(ScheduleError) -> Int {
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit) else {
            throw ScheduleError(.syntax, field: kind.name, "step \"\(text)\" is not a number")
        }
        guard let step = Int(text), step >= 1 else {
            throw ScheduleError(.syntax, field: kind.name, "step \(text) must be at least 1")
        }
        return step
    }

    /// A number within the field's bounds, or one of its names.
    private static func parseValue(_ text: Substring, as kind: Kind) throws(ScheduleError) -> Int {
        let bounds = kind.bounds
        if !text.isEmpty, text.allSatisfy(\.isASCIIDigit) {
            guard let value = Int(text), bounds.contains(value) else {
                throw ScheduleError(
                    .outOfRange, field: kind.name,
                    "\(text) is out of range \(bounds.lowerBound)-\(bounds.upperBound)")
            }
            return value
        }
        guard let names = kind.names, let noun = kind.nameNoun else {
            throw ScheduleError(.syntax, field: kind.name, "\"\(text)\" is not a number")
        }
        if let index = names.words.firstIndex(of: text.uppercased()) {
            return names.first + index
        }
        if !text.isEmpty, text.allSatisfy(\.isLetter) {
            throw ScheduleError(.syntax, field: kind.name, "\"\(text)\" is not a \(noun)")
        }
        throw ScheduleError(.syntax, field: kind.name, "\"\(text)\" is not a number or a \(noun)")
    }
}

extension Character {
    /// Whether this is one of the ASCII digits 0-9 (not any Unicode digit).
    fileprivate var isASCIIDigit: Bool { isASCII && isWholeNumber }
}
