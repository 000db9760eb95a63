import AMQP
import Foundation
import WarrenCore

extension AMQPValue {
    /// The value as JSON, for `dlq list --json`: integers stay integers (an unsigned 64-bit one
    /// beyond `Int64` becomes a number with a fraction), timestamps become ISO-8601 text, raw
    /// bytes become base64 text, tables objects, arrays arrays and void `null`.
    var jsonValue: JSONValue {
        switch self {
        case .bool(let b): .bool(b)
        case .float, .double, .decimal: doubleValue.map(JSONValue.double) ?? .null
        case .uint64(let v): Int64(exactly: v).map(JSONValue.int) ?? .double(Double(v))
        case .string(let s): .string(s)
        case .bytes(let b): .string(Data(b).base64EncodedString())
        case .timestamp(let seconds): .string(CeleryTime.format(Date(timeIntervalSince1970: Double(seconds))))
        case .table(let t): .object(t.jsonObject)
        case .array(let items): .array(items.map(\.jsonValue))
        case .void: .null
        default: intValue.map { .int(Int64($0)) } ?? .null
        }
    }
}

extension AMQPTable {
    /// The table as a JSON object, keys in wire order (a repeated key keeps its last value).
    var jsonObject: JSONObject {
        JSONObject(entries.map { ($0.key, $0.value.jsonValue) })
    }
}
