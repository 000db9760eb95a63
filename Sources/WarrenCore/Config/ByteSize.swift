/// An amount of memory or data, in bytes, read from a human-readable size.
///
/// Sizes are written as a number and a unit: `64MiB`, `2GiB`, `512KiB`, `1024B`. The binary units
/// `KiB`, `MiB`, `GiB`, `TiB` are powers of 1024; the decimal units `KB`, `MB`, `GB`, `TB` are
/// powers of 1000, as their SI prefixes say. A bare integer is a number of bytes. Units are
/// case-insensitive; decimals are allowed when the result is a whole number of bytes
/// (`1.5GiB`, `0.5KiB`). The ambiguous `K`, `M`, `G` are refused.
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The number of bytes.
    public var bytes: Int

    /// Creates a size of `bytes` bytes.
    public init(bytes: Int) {
        self.bytes = bytes
    }

    /// Reads a human-readable size (see ``ByteSize``).
    ///
    /// - Parameter text: The text to read, for example `512MiB`.
    /// - Returns: `nil` when `text` is not a size in this form.
    public init?(humanReadable text: String) {
        guard case .success(let size) = Self.parse(text) else { return nil }
        self = size
    }

    /// `count` kibibytes (`count × 1024` bytes).
    public static func kibibytes(_ count: Int) -> ByteSize { ByteSize(bytes: count << 10) }
    /// `count` mebibytes (`count × 1024²` bytes).
    public static func mebibytes(_ count: Int) -> ByteSize { ByteSize(bytes: count << 20) }
    /// `count` gibibytes (`count × 1024³` bytes).
    public static func gibibytes(_ count: Int) -> ByteSize { ByteSize(bytes: count << 30) }

    /// The size in the largest unit that divides it exactly, binary units first:
    /// `512MiB`, `1536MiB`, `1MB`, `1000B`, `0B`.
    public var description: String {
        guard bytes != 0 else { return "0B" }
        for unit in Self.units.reversed() where unit.factor > 1 && bytes % Int(unit.factor) == 0 {
            return "\(bytes / Int(unit.factor))\(unit.symbol)"
        }
        return "\(bytes)B"
    }

    /// Orders by number of bytes.
    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }

    private struct Unit {
        var symbol: String
        var factor: Int64
    }

    // Decimal units first, so that `description` (which walks this list backwards) prefers
    // the binary unit when both divide.
    private static let units: [Unit] = [
        Unit(symbol: "B", factor: 1),
        Unit(symbol: "KB", factor: 1_000),
        Unit(symbol: "MB", factor: 1_000_000),
        Unit(symbol: "GB", factor: 1_000_000_000),
        Unit(symbol: "TB", factor: 1_000_000_000_000),
        Unit(symbol: "KiB", factor: 1 << 10),
        Unit(symbol: "MiB", factor: 1 << 20),
        Unit(symbol: "GiB", factor: 1 << 30),
        Unit(symbol: "TiB", factor: 1 << 40),
    ]

    /// Reads `text`; a failure says why when there is more to say than "not a size".
    static func parse(_ text: String) -> Result<ByteSize, HumanValueFailure> {
        if text.first == "-" {
            return .failure(HumanValueFailure(detail: "a size cannot be negative"))
        }
        guard let (number, length) = DecimalQuantity.prefix(of: Substring(text)) else {
            return .failure(HumanValueFailure(detail: nil))
        }
        let symbol = text.dropFirst(length)
        let factor: Int64
        if symbol.isEmpty {
            factor = 1
        } else if symbol.first?.isWhitespace == true {
            return .failure(HumanValueFailure(detail: "write it without spaces, like 64MiB"))
        } else if let unit = units.first(where: { $0.symbol.lowercased() == symbol.lowercased() }) {
            factor = unit.factor
        } else if ["k", "m", "g", "t"].contains(symbol.lowercased()) {
            let prefix = symbol.uppercased()
            return .failure(
                HumanValueFailure(detail: "\"\(symbol)\" is ambiguous; write \(prefix)iB (powers of 1024) or \(prefix)B (powers of 1000)"))
        } else {
            // Quoted: the rest of the text can hold anything, line breaks too (found by fuzzing).
            return .failure(
                HumanValueFailure(
                    detail:
                        "unknown unit \(ErrorText.quoted(String(symbol), limit: ConfigKeyPath.quotedLimit)); use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB"
                ))
        }
        switch number.scaled(by: factor) {
        case .success(let bytes) where bytes <= Int64(Int.max):
            return .success(ByteSize(bytes: Int(bytes)))
        case .success, .failure(.overflow):
            return .failure(HumanValueFailure(detail: "too large"))
        case .failure(.fraction):
            return .failure(HumanValueFailure(detail: "not a whole number of bytes"))
        }
    }
}
