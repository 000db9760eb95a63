import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Human-readable durations")
struct HumanDurationTests {
    @Test(
        "reads units, combinations and decimals",
        arguments: [
            ("500ms", Duration.milliseconds(500)),
            ("30s", .seconds(30)),
            ("10m", .seconds(600)),
            ("1h", .seconds(3_600)),
            ("2d", .seconds(172_800)),
            ("1h30m", .seconds(5_400)),
            ("1m30s", .seconds(90)),
            ("1d2h3m4s5ms", .seconds(93_784) + .milliseconds(5)),
            ("1.5s", .milliseconds(1_500)),
            ("0.1s", .milliseconds(100)),
            ("0.5h", .seconds(1_800)),
            ("1.5ms", .microseconds(1_500)),
            ("0.000001ms", .nanoseconds(1)),
            ("0", .zero),
            ("0s", .zero),
        ])
    func reads(text: String, expected: Duration) {
        #expect(Duration(humanReadable: text) == expected)
    }

    @Test(
        "refuses what is not a duration, saying why when it can",
        arguments: [
            ("30", "a number needs a unit: ms, s, m, h or d"),
            ("10 minutes", "write it without spaces, like 1h30m"),
            ("1h30", "a number needs a unit: ms, s, m, h or d"),
            ("ten minutes", nil),
            ("", nil),
            ("10min", "unknown unit \"min\"; use ms, s, m, h or d"),
            ("30sec", "unknown unit \"sec\"; use ms, s, m, h or d"),
            ("30s1m", "write the units from the largest to the smallest, each once, like 1h30m"),
            ("1m1m", "write the units from the largest to the smallest, each once, like 1h30m"),
            ("1h 30m", "write it without spaces, like 1h30m"),
            ("-5s", "a duration cannot be negative"),
            (".5s", nil),
            ("1.s", nil),
            ("0.0000000001s", "finer than a nanosecond"),
            ("999999999999d", "too long"),
        ] as [(String, String?)])
    func refuses(text: String, detail: String?) {
        #expect(Duration(humanReadable: text) == nil)
        guard case .failure(let failure) = HumanDurationParser.parse(text) else {
            Issue.record("\(text) was accepted")
            return
        }
        #expect(failure.detail == detail)
    }

    @Test(
        "prints the largest units first",
        arguments: [
            (Duration.zero, "0s"),
            (.milliseconds(500), "500ms"),
            (.microseconds(1_500), "1.5ms"),
            (.milliseconds(1_500), "1.5s"),
            (.seconds(30), "30s"),
            (.seconds(90), "1m30s"),
            (.seconds(600), "10m"),
            (.seconds(5_400), "1h30m"),
            (.seconds(3_600) + .milliseconds(500), "1h0.5s"),
            (.seconds(172_800), "2d"),
            (.seconds(-30), "-30s"),
        ])
    func prints(duration: Duration, expected: String) {
        #expect(duration.humanReadable == expected)
    }

    @Test("reads back what it prints")
    func roundTrip() {
        let samples: [Duration] = [
            .nanoseconds(1), .milliseconds(1), .milliseconds(999), .seconds(1), .seconds(59) + .milliseconds(1),
            .seconds(86_399), .seconds(86_400 * 365), .seconds(3_723) + .nanoseconds(42),
        ]
        for sample in samples {
            #expect(Duration(humanReadable: sample.humanReadable) == sample, "\(sample.humanReadable)")
        }
    }
}
