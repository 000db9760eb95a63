import Foundation
import PropertyBased
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// Property tests of decoding a task's arguments into a handler's type, the step after the
/// envelope: whatever `args` and `kwargs` a client sends, the worker gets the handler's value or
/// an ``EnvelopeError`` (`invalidArguments`, dead-lettered as `malformed`), never a crash that
/// would kill the child.
@Suite("Fuzzing argument decoding", .timeLimit(fuzzTimeLimit))
struct ArgumentFuzzTests {
    /// A handler argument type with a field of every kind `JSONValueDecoder` reads specially.
    struct Everything: Decodable, PositionalArguments {
        static let argumentNames = ["i", "s", "list"]
        var i: Int
        var s: String?
        var list: [Int]?
        var i8: Int8?
        var u64: UInt64?
        var d: Double?
        var f: Float?
        var b: Bool?
        var nested: [String: [Double]]?
        var date: Date?
        var id: UUID?
        var decimal: Decimal?
        var data: Data?
        var url: URL?
        var any: JSONValue?
    }

    static let fields = ["i", "s", "list", "i8", "u64", "d", "f", "b", "nested", "date", "id", "decimal", "data", "url", "any", "extra"]

    /// Random arguments, often aimed at `Everything`'s fields, with kombu's type markers.
    static let arguments = Generator<([JSONValue], JSONObject), Shrink.None<([JSONValue], JSONObject)>> { rng in
        func value() -> JSONValue {
            guard rng.chance(0.3) else { return rng.json(depth: 2) }
            let marker = rng.pick(["datetime", "date", "time", "decimal", "uuid", "bytes", "base64", "other"])
            let inner: JSONValue = rng.chance(0.5) ? .string(rng.chance(0.5) ? rng.isoTimeLike() : rng.text()) : rng.json(depth: 1)
            return KombuJSON.wrap(marker, marker == "uuid" && rng.chance(0.5) ? ["hex": inner] : inner)
        }
        let args = (0..<rng.int(0...4)).map { _ in value() }
        let kwargs = JSONObject((0..<rng.int(0...6)).map { _ in (rng.pick(fields), value()) })
        return (args, kwargs)
    }

    @Test("random args and kwargs decode into a handler's type or are refused with a readable EnvelopeError")
    func decodesOrRefuses() async {
        await propertyCheck(count: fuzzIterations(1500), input: Self.arguments) { input in
            let (args, kwargs) = input
            Self.attempt(Everything.self, args, kwargs)
            Self.attempt([Int].self, args, kwargs)
            Self.attempt(JSONValue.self, args, kwargs)
            Self.attempt(JSONObject.self, args, kwargs)
            Self.attempt([String: Date].self, args, kwargs)
        }
    }

    static func attempt<T: Decodable>(_ type: T.Type, _ args: [JSONValue], _ kwargs: JSONObject) {
        do {
            _ = try TaskArguments.decode(type, args: args, kwargs: kwargs)
        } catch {
            #expect(error.code == .invalidArguments)
            EnvelopeFuzzTests.expectReadable(error)
        }
    }
}
