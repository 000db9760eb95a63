import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("AMQP topic patterns")
struct TopicPatternTests {
    /// Each case: pattern, routing key, whether RabbitMQ's topic exchange matches them.
    /// The empty routing key has no words (rabbit_db_topic_exchange:split_topic_key(<<>>) = []).
    @Test(
        "match as RabbitMQ's topic exchange does",
        arguments: [
            ("#", "", true), ("#", "a", true), ("#", "a.b.c", true),
            ("*", "a", true), ("*", "", false), ("*", "a.b", false),
            ("a.#", "a", true), ("a.#", "a.b", true), ("a.#", "a.b.c", true), ("a.#", "b", false), ("a.#", "ab", false),
            ("#.a", "a", true), ("#.a", "x.a", true), ("#.a", "x.y.a", true), ("#.a", "a.x", false),
            ("a.#.b", "a.b", true), ("a.#.b", "a.x.b", true), ("a.#.b", "a.x.y.b", true), ("a.#.b", "a.x", false),
            ("a.*", "a.b", true), ("a.*", "a", false), ("a.*", "a.b.c", false),
            ("*.b", "a.b", true), ("*.b", "b", false),
            ("a.*.#", "a.b", true), ("a.*.#", "a.b.c", true), ("a.*.#", "a", false),
            ("#.#", "", true), ("#.#", "a.b", true),
            ("*.*", "a", false), ("*.*", "a.b", true),
            ("#.*", "", false), ("#.*", "a", true), ("#.*", "a.b.c", true),
            ("notify.*", "notify.email", true), ("notify.*", "notify", false), ("notify.*", "notify.email.now", false),
            ("auth.#", "auth", true), ("auth.#", "auth.login.failed", true), ("auth.#", "authz.check", false),
            ("demo.noop", "demo.noop", true), ("demo.noop", "demo.noop.x", false), ("demo.noop", "demo", false),
            ("a.*.b", "a..b", true), ("a.*", "a.", true),
        ])
    func matching(pattern: String, key: String, matches: Bool) throws {
        let parsed = try #require(TopicPattern(pattern))
        #expect(parsed.matches(key) == matches)
    }

    @Test("keeps the text and the words")
    func words() throws {
        let pattern = try #require(TopicPattern("report.*.#"))
        #expect(pattern.description == "report.*.#")
        #expect(pattern.words == [.literal("report"), .star, .hash])
    }

    @Test(
        "refuses patterns that are likely mistakes, saying why",
        arguments: [
            ("", "a pattern must not be empty; # matches every task"),
            ("a.*b", "* and # must stand alone between dots, as in a.*.b"),
            ("a#", "* and # must stand alone between dots, as in a.*.b"),
            ("**", "* and # must stand alone between dots, as in a.*.b"),
            ("a..b", "empty word: dots separate words, so no dot may start or end a pattern or follow another"),
            (".a", "empty word: dots separate words, so no dot may start or end a pattern or follow another"),
            ("a.", "empty word: dots separate words, so no dot may start or end a pattern or follow another"),
            ("a b", "a pattern must not contain spaces"),
            (String(repeating: "a", count: 256), "a pattern is limited to 255 bytes"),
        ])
    func refuses(pattern: String, message: String) {
        #expect(TopicPattern(pattern) == nil)
        #expect(TopicPattern.validationMessage(for: pattern) == message)
    }

    @Test("tells exact routing keys from wildcards")
    func exactKeys() {
        #expect(TopicPattern.isExactRoutingKey("email.send"))
        #expect(TopicPattern.isExactRoutingKey("proj.tasks.add"))
        #expect(!TopicPattern.isExactRoutingKey("report.*"))
        #expect(!TopicPattern.isExactRoutingKey("#"))
        #expect(!TopicPattern.isExactRoutingKey("a..b"))
        #expect(!TopicPattern.isExactRoutingKey(""))
    }
}
