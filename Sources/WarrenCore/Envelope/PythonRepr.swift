/// Python's `repr` of JSON values, for the `argsrepr` and `kwargsrepr` headers that monitoring
/// tools (Flower, `celery events`) show: `[2, 3]`, `{'a': 1, 'b': None}`, `'text'`.
package enum PythonRepr {
    /// Celery's `argsrepr_maxsize` / `kwargsrepr_maxsize` (`celery/app/amqp.py`).
    package static let maxLength = 1024

    /// The repr of `value`, cut to ``maxLength`` characters with `...` as `saferepr` does.
    package static func truncated(_ value: JSONValue) -> String {
        let text = repr(value)
        return text.count > maxLength ? String(text.prefix(maxLength - 3)) + "..." : text
    }

    package static func repr(_ value: JSONValue) -> String {
        switch value {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d):
            if d.isNaN { return "nan" }
            if d.isInfinite { return d < 0 ? "-inf" : "inf" }
            return JSONValue.format(d)
        case .string(let s): return string(s)
        case .array(let a): return "[" + a.map(repr).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.map { "\(string($0.key)): \(repr($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    private static func string(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Character(scalar) == quote: out += "\\" + String(quote)
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" : "") + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append(quote)
        return out
    }
}
