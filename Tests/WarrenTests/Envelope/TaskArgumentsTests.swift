import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

struct AddArgs: Codable, Sendable, Equatable, PositionalArguments {
    static let argumentNames = ["a", "b"]
    var a: Int
    var b: Int
}

struct EchoArgs: Codable, Equatable {
    var message: String
    var count: Int?
}

struct Typed: Codable, Equatable {
    var when: Date
    var ref: UUID
    var price: Decimal
    var blob: Data
    var site: URL
    var ratio: Float
    var id: UInt64
    var small: Int8
}

@Suite("Decoding handler arguments from args and kwargs")
struct TaskArgumentsTests {
    @Test func positionalThroughArgumentNames() throws {
        #expect(try TaskArguments.decode(AddArgs.self, args: [2, 3], kwargs: [:]) == AddArgs(a: 2, b: 3))
    }

    @Test func keywords() throws {
        #expect(try TaskArguments.decode(AddArgs.self, args: [], kwargs: ["b": 3, "a": 2]) == AddArgs(a: 2, b: 3))
    }

    @Test func mixed() throws {
        #expect(try TaskArguments.decode(AddArgs.self, args: [2], kwargs: ["b": 3]) == AddArgs(a: 2, b: 3))
    }

    @Test func namesGivenAtRegistration() throws {
        let echo = try TaskArguments.decode(EchoArgs.self, args: ["hi", 2], kwargs: [:], argumentNames: ["message", "count"])
        #expect(echo == EchoArgs(message: "hi", count: 2))
    }

    @Test func fromAMessage() throws {
        let task = try EnvelopeDecoder().decode(delivery: CeleryFixture.delivery())
        #expect(try task.decodeArguments(as: AddArgs.self) == AddArgs(a: 2, b: 3))
        let plain = try EnvelopeDecoder().decode(delivery: CeleryFixture.plain(#"{"a": 20, "b": 22}"#, routingKey: "demo.add"))
        let args: AddArgs = try plain.decodeArguments()
        #expect(args == AddArgs(a: 20, b: 22))
    }

    @Test func unkeyedTypesTakeArgs() throws {
        #expect(try TaskArguments.decode([Int].self, args: [1, 2, 3], kwargs: [:]) == [1, 2, 3])
        #expect(try TaskArguments.decode([JSONValue].self, args: [], kwargs: [:]) == [])
        let error = envelopeError { () throws(EnvelopeError) in
            try TaskArguments.decode([Int].self, args: [1], kwargs: ["x": 1, "y": 2])
        }
        #expect(error?.message == "arguments do not fit Array<Int>: takes positional arguments only, but got keyword arguments 'x', 'y'")
    }

    @Test func rawJSON() throws {
        #expect(try TaskArguments.decode(JSONValue.self, args: [], kwargs: ["a": 1]) == ["a": 1])
        #expect(try TaskArguments.decode(JSONValue.self, args: [1, 2], kwargs: [:]) == [1, 2])
        #expect(try TaskArguments.decode(JSONObject.self, args: [], kwargs: ["a": 1]) == ["a": 1])
        #expect(throws: EnvelopeError.self) { try TaskArguments.decode(JSONValue.self, args: [1], kwargs: ["a": 1]) }
    }

    @Test func noArgumentsForAnEmptyType() throws {
        struct Nothing: Decodable, Equatable {}
        #expect(try TaskArguments.decode(Nothing.self, args: [], kwargs: [:]) == Nothing())
    }

    @Test(
        arguments: [
            ([JSONValue](), ["a": 1] as JSONObject, "arguments do not fit AddArgs: missing argument 'b'"),
            ([1, 2, 3], [:], "arguments do not fit AddArgs: takes 2 positional arguments but 3 were given"),
            ([1], ["a": 5], "arguments do not fit AddArgs: got multiple values for argument 'a'"),
            ([], ["a": "2", "b": 3], #"arguments do not fit AddArgs: 'a': expected an integer, found string "2""#),
            ([], ["a": 2.5, "b": 3], "arguments do not fit AddArgs: 'a': number 2.5 is not an integer that fits in Int"),
            ([], ["a": .null, "b": 3], "arguments do not fit AddArgs: 'a': expected Int, found null"),
        ] as [([JSONValue], JSONObject, String)])
    func errors(args: [JSONValue], kwargs: JSONObject, message: String) {
        let error = envelopeError { () throws(EnvelopeError) in try TaskArguments.decode(AddArgs.self, args: args, kwargs: kwargs) }
        #expect(error?.code == .invalidArguments)
        #expect(error?.message == message)
        #expect(error?.reason == .malformed)
    }

    @Test func positionalWithoutNamesIsExplained() {
        let error = envelopeError { () throws(EnvelopeError) in try TaskArguments.decode(EchoArgs.self, args: ["hi"], kwargs: [:]) }
        #expect(
            error?.message
                == "arguments do not fit EchoArgs: got 1 positional argument but takes keyword arguments only; "
                + "name the positional ones (PositionalArguments.argumentNames)")
    }

    @Test func errorsFromAMessageNameTheTask() throws {
        let task = try EnvelopeDecoder().decode(delivery: CeleryFixture.delivery(body: #"[["x", 3]]"#))
        let error = envelopeError { () throws(EnvelopeError) in try task.decodeArguments(as: AddArgs.self) }
        #expect(error?.taskName == "demo.add")
        #expect(error?.taskID == CeleryFixture.taskID)
        #expect(
            error?.description
                == #"arguments do not fit AddArgs: 'a': expected an integer, found string "x" (task demo.add, id \#(CeleryFixture.taskID))"#
        )
    }

    @Test func bigIntegersStayExact() throws {
        struct Big: Decodable, Equatable {
            var max: Int64
            var min: Int64
            var near: Int
        }
        let task = try EnvelopeDecoder().decode(
            delivery: CeleryFixture.plain(
                #"{"max": 9223372036854775807, "min": -9223372036854775808, "near": 9007199254740993}"#))
        let big = try task.decodeArguments(as: Big.self)
        #expect(big == Big(max: .max, min: .min, near: 9_007_199_254_740_993))
        let error = envelopeError { () throws(EnvelopeError) in
            try TaskArguments.decode([Int32].self, args: [.int(3_000_000_000)], kwargs: [:])
        }
        #expect(error?.message == "arguments do not fit Array<Int32>: args[0]: number 3000000000 does not fit in Int32")
        #expect(try TaskArguments.decode([Int].self, args: [5.0], kwargs: [:]) == [5])
    }

    @Test func kombuTypeMarkersAndFoundationTypes() throws {
        // What a Python client sends for datetime, UUID, Decimal and bytes (kombu/utils/json.py).
        let body = #"""
            {"when": {"__type__": "datetime", "__value__": "2025-01-01T12:00:00.5+00:00"},
             "ref": {"__type__": "uuid", "__value__": {"hex": "4d4f1c5e8a6b4a599a430f1d2c3b4a59"}},
             "price": {"__type__": "decimal", "__value__": "19.99"},
             "blob": {"__type__": "bytes", "__value__": "hi"},
             "site": "https://example.org/x", "ratio": 0.25, "id": 18446744073709551615, "small": -128}
            """#
        _ = body
        let kwargs = try #require(JSONValue(parsing: body).objectValue)
        // 18446744073709551615 is beyond Int64 and arrives as a Double, which UInt64 cannot hold exactly.
        var fitting = kwargs
        fitting["id"] = .int(Int64.max)
        let typed = try TaskArguments.decode(Typed.self, args: [], kwargs: fitting)
        #expect(typed.when == Date(timeIntervalSince1970: 1_735_732_800.5))
        #expect(typed.ref == UUID(uuidString: "4D4F1C5E-8A6B-4A59-9A43-0F1D2C3B4A59"))
        #expect(typed.price == Decimal(string: "19.99"))
        #expect(typed.blob == Data("hi".utf8))
        #expect(typed.site == URL(string: "https://example.org/x"))
        #expect(typed.ratio == 0.25)
        #expect(typed.id == UInt64(Int64.max))
        #expect(typed.small == -128)

        struct Texts: Decodable { var when: String; var ref: String; var price: String }
        let texts = try TaskArguments.decode(Texts.self, args: [], kwargs: kwargs)
        #expect(texts.when == "2025-01-01T12:00:00.5+00:00")
        #expect(texts.ref == "4d4f1c5e-8a6b-4a59-9a43-0f1d2c3b4a59")
        #expect(texts.price == "19.99")
    }
}

@Suite("JSONValueEncoder and JSONValueDecoder")
struct JSONCodersTests {
    struct Report: Codable, Equatable {
        var zeta: Int
        var alpha: String
        var items: [Item]
        var note: String?
        struct Item: Codable, Equatable {
            var id: Int64
            var ok: Bool
        }
    }

    @Test func encodesInDeclarationOrder() throws {
        let value = try JSONValueEncoder().encode(Report(zeta: 1, alpha: "a", items: [.init(id: .max, ok: true)], note: nil))
        #expect(value.jsonText == #"{"zeta":1,"alpha":"a","items":[{"id":9223372036854775807,"ok":true}]}"#)
        #expect(
            try JSONValueDecoder().decode(Report.self, from: value)
                == Report(zeta: 1, alpha: "a", items: [.init(id: .max, ok: true)], note: nil))
    }

    @Test func foundationTypesAsKombuMarkers() throws {
        let typed = Typed(
            when: Date(timeIntervalSince1970: 1_735_732_800.5), ref: UUID(uuidString: "4D4F1C5E-8A6B-4A59-9A43-0F1D2C3B4A59")!,
            price: Decimal(string: "19.99")!, blob: Data([0xFF, 0x00]), site: URL(string: "https://example.org")!, ratio: 0.1,
            id: 42, small: 1)
        let value = try JSONValueEncoder().encode(typed)
        #expect(value["when"] == ["__type__": "datetime", "__value__": "2025-01-01T12:00:00.500000+00:00"])
        #expect(value["ref"] == ["__type__": "uuid", "__value__": ["hex": "4d4f1c5e8a6b4a599a430f1d2c3b4a59"]])
        #expect(value["price"] == ["__type__": "decimal", "__value__": "19.99"])
        #expect(value["blob"] == ["__type__": "base64", "__value__": "/wA="])
        #expect(value["site"] == "https://example.org")
        #expect(value["ratio"] == 0.1)
        #expect(try JSONValueDecoder().decode(Typed.self, from: value) == typed)
        #expect(try JSONValueEncoder().encode(Data("hi".utf8)) == ["__type__": "bytes", "__value__": "hi"])
    }

    @Test func jsonValueEncodesAsItself() throws {
        let value: JSONValue = ["b": [1, .null], "a": 2.5]
        #expect(try JSONValueEncoder().encode(value).jsonText == value.jsonText)
        #expect(try JSONValueEncoder().encode(["k": value]).jsonText == #"{"k":{"b":[1,null],"a":2.5}}"#)
    }

    @Test func unsignedBeyondInt64IsRefused() {
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode(UInt64.max) }
    }

    @Test func jsonValueThroughFoundationCoders() throws {
        let value: JSONValue = ["a": [1, 2.5, "x", true, .null]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
    }

    @Test func dateFromNumbersAndStrings() throws {
        #expect(try JSONValueDecoder().decode(Date.self, from: 10) == Date(timeIntervalSince1970: 10))
        #expect(try JSONValueDecoder().decode(Date.self, from: "1970-01-01T00:00:10") == Date(timeIntervalSince1970: 10))
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Date.self, from: "soon") }
    }
}
