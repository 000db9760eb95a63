/// A non-negative decimal number read exactly from text, as `digits / 10^scale`.
///
/// Durations and sizes accept decimals (`1.5s`, `0.5GiB`); reading them as `Double` would turn
/// `0.1s` into 99 999 999 ns. Keeping the digits lets the caller scale by the unit first and
/// divide last, so every value that is a whole number of nanoseconds (or bytes) comes out exact.
struct DecimalQuantity: Equatable {
    /// The digits without the decimal point: `1.25` is 125.
    var mantissa: Int64
    /// How many of those digits follow the decimal point: `1.25` has 2.
    var scale: Int

    /// Reads the longest number at the start of `text`: one or more ASCII digits, optionally
    /// followed by `.` and one or more digits.
    ///
    /// - Returns: The number and the number of characters it used, or `nil` when `text` does
    ///   not start with a number, when the point has no digit after it, or on overflow.
    static func prefix(of text: Substring) -> (DecimalQuantity, length: Int)? {
        var mantissa: Int64 = 0
        var scale = 0
        var length = 0
        var sawPoint = false
        var digitsAfterPoint = 0
        var digitsBeforePoint = 0
        for character in text {
            if let digit = character.asciiDigit {
                let (shifted, overflow1) = mantissa.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = shifted.addingReportingOverflow(Int64(digit))
                if overflow1 || overflow2 { return nil }
                mantissa = sum
                if sawPoint {
                    scale += 1
                    digitsAfterPoint += 1
                } else {
                    digitsBeforePoint += 1
                }
            } else if character == ".", !sawPoint, digitsBeforePoint > 0 {
                sawPoint = true
            } else {
                break
            }
            length += 1
        }
        guard digitsBeforePoint > 0, !sawPoint || digitsAfterPoint > 0 else { return nil }
        return (DecimalQuantity(mantissa: mantissa, scale: scale), length)
    }

    /// `self × unit`, when that is a whole number that fits in `Int64`.
    ///
    /// - Returns: `.success` with the product, `.failure(.fraction)` when the product is not a
    ///   whole number, `.failure(.overflow)` when it does not fit.
    func scaled(by unit: Int64) -> Result<Int64, ScalingFailure> {
        var divisor: Int64 = 1
        for _ in 0..<scale {
            let (next, overflow) = divisor.multipliedReportingOverflow(by: 10)
            if overflow { return .failure(.fraction) }
            divisor = next
        }
        // Reduce first so that 1.5 × 2^30 does not overflow where the result would not.
        let common = Self.gcd(unit, divisor)
        let reducedUnit = unit / common
        let reducedDivisor = divisor / common
        guard mantissa % reducedDivisor == 0 else { return .failure(.fraction) }
        let (product, overflow) = (mantissa / reducedDivisor).multipliedReportingOverflow(by: reducedUnit)
        return overflow ? .failure(.overflow) : .success(product)
    }

    /// Why ``scaled(by:)`` failed.
    enum ScalingFailure: Error {
        /// The result has a fractional part.
        case fraction
        /// The result does not fit in `Int64`.
        case overflow
    }

    private static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}

extension Character {
    /// The value of an ASCII digit `0`...`9`, else `nil` (other Unicode digits are not numbers here).
    var asciiDigit: Int? {
        guard let ascii = asciiValue, ascii >= 48, ascii <= 57 else { return nil }
        return Int(ascii - 48)
    }
}

/// Prints `value / 10^decimals` without trailing zeros: `(1500, 3)` is `1.5`, `(2000, 3)` is `2`.
func formatDecimal(_ value: Int64, decimals: Int) -> String {
    var divisor: Int64 = 1
    for _ in 0..<decimals { divisor *= 10 }
    let whole = value / divisor
    var fraction = value % divisor
    guard fraction != 0 else { return String(whole) }
    var digits = decimals
    while fraction % 10 == 0 {
        fraction /= 10
        digits -= 1
    }
    let fractionText = String(fraction)
    return "\(whole)." + String(repeating: "0", count: digits - fractionText.count) + fractionText
}
