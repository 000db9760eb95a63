import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("ISO-8601 times as Celery writes and reads them")
struct CeleryTimeTests {
    static let base = 1_735_732_800.0  // 2025-01-01T12:00:00Z

    @Test(
        arguments: [
            ("2025-01-01T12:00:00+00:00", base),
            ("2025-01-01T12:00:00.123456+00:00", base + 0.123456),
            ("2025-01-01T12:00:00.5Z", base + 0.5),
            ("2025-01-01T12:00:00.123456789z", base + 0.123456789),
            ("2025-01-01T12:00:00", base),  // naive = UTC
            ("2025-01-01 12:00:00", base),
            ("2025-01-01t12:00", base),
            ("2025-01-01T13:30:00+01:30", base),
            ("2025-01-01T07:00:00-05:00", base),
            ("2025-01-01T07:00:00-0500", base),
            ("2025-01-01T14:00:00+02", base),
            ("2025-01-01T12:00:00,25+00:00", base + 0.25),
            ("20250101T120000Z", base),
            ("2025-01-01", base - 12 * 3600),
            ("2024-12-31T24:00:00Z", base - 12 * 3600),
            ("2024-02-29T00:00:00Z", 1_709_164_800),
            ("1969-12-31T23:59:59Z", -1),
            ("1970-01-01T00:00:00+00:00", 0),
        ] as [(String, Double)])
    func parses(text: String, seconds: Double) throws {
        let date = try #require(CeleryTime.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6)
    }

    @Test(arguments: [
        "", "tomorrow", "2025-13-01T00:00:00", "2025-02-29T00:00:00", "2025-01-01T25:00:00", "2025-01-01T12:60:00",
        "2025-01-01T12:00:00+24:00", "2025-01-01T12:00:00.", "2025-01-01T12:00:00Zjunk", "2025-1-1", "2025-01-01X12:00",
        "1735732800",
    ])
    func rejects(text: String) {
        #expect(CeleryTime.parse(text) == nil)
    }

    @Test func formatsLikePythonIsoformat() {
        #expect(CeleryTime.format(Date(timeIntervalSince1970: Self.base)) == "2025-01-01T12:00:00+00:00")
        #expect(CeleryTime.format(Date(timeIntervalSince1970: Self.base + 0.123456)) == "2025-01-01T12:00:00.123456+00:00")
        #expect(CeleryTime.format(Date(timeIntervalSince1970: Self.base + 0.5)) == "2025-01-01T12:00:00.500000+00:00")
        #expect(CeleryTime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00+00:00")
        #expect(CeleryTime.format(Date(timeIntervalSince1970: -0.000001)) == "1969-12-31T23:59:59.999999+00:00")
        #expect(CeleryTime.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00+00:00")
    }

    @Test func roundTripsMicroseconds() throws {
        for micros in [0, 1, 123_456, 999_999] {
            let date = Date(timeIntervalSince1970: Self.base + Double(micros) / 1e6)
            let text = CeleryTime.format(date)
            let back = try #require(CeleryTime.parse(text))
            #expect(CeleryTime.format(back) == text)
        }
    }
}
