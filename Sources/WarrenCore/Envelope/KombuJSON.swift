import Foundation

/// kombu's JSON type markers (`kombu/utils/json.py`): since kombu 5.3 its encoder writes
/// `datetime`, `date`, `time`, `Decimal`, `UUID` and `bytes` as
/// `{"__type__": "<marker>", "__value__": <value>}` and its decoder turns such an object back
/// into the Python type. Celery's arguments and results may therefore hold them.
///
/// | Python | marker | value |
/// |---|---|---|
/// | `datetime` | `datetime` | `isoformat()` text |
/// | `date` | `date` | `isoformat()` text |
/// | `time` | `time` | `isoformat()` text |
/// | `Decimal` | `decimal` | `str()` text |
/// | `UUID` | `uuid` | `{"hex": "<32 hex digits>"}` |
/// | `bytes` (UTF-8) | `bytes` | the text |
/// | `bytes` (other) | `base64` | base64 text |
enum KombuJSON {
    /// The marker and value of a kombu-wrapped value, else `nil`.
    static func unwrap(_ value: JSONValue) -> (type: String, value: JSONValue)? {
        guard case .object(let object) = value, object.count == 2,
            case .string(let type)? = object["__type__"], let inner = object["__value__"]
        else { return nil }
        return (type, inner)
    }

    /// A kombu-wrapped value.
    static func wrap(_ type: String, _ value: JSONValue) -> JSONValue {
        .object(["__type__": .string(type), "__value__": value])
    }

    /// The text a wrapped value stands for (the ISO text of a datetime, the digits of a decimal,
    /// the hyphenated form of a UUID, the text of UTF-8 bytes), else `nil`.
    static func text(of value: JSONValue) -> String? {
        guard let (type, inner) = unwrap(value) else { return nil }
        switch type {
        case "datetime", "date", "time", "decimal", "bytes": return inner.stringValue
        case "uuid": return inner["hex"]?.stringValue.flatMap(uuid(hex:))?.uuidString.lowercased()
        default: return nil
        }
    }

    /// A UUID from 32 hex digits (Python's `UUID.hex`), with or without hyphens.
    static func uuid(hex: String) -> UUID? {
        let digits = hex.filter { $0 != "-" }
        guard digits.count == 32 else { return nil }
        let d = Array(digits)
        let text =
            String(d[0..<8]) + "-" + String(d[8..<12]) + "-" + String(d[12..<16]) + "-"
            + String(d[16..<20]) + "-" + String(d[20..<32])
        return UUID(uuidString: text)
    }
}
