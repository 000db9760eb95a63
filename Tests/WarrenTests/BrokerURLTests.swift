import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Broker URLs and password masking")
struct BrokerURLTests {
    @Test("takes a full URL apart, percent-decoding user, password and vhost")
    func fullURL() throws {
        let url = try #require(BrokerURL("amqp://us%40er:p%3Ass@rabbit.example:5673/my%2Fvhost"))
        #expect(!url.usesTLS)
        #expect(url.user == "us@er")
        #expect(url.password == "p:ss")
        #expect(url.host == "rabbit.example")
        #expect(url.port == 5673)
        #expect(url.virtualHost == "my/vhost")
    }

    @Test("fills librabbitmq's defaults")
    func defaults() throws {
        let plain = try #require(BrokerURL("amqp://localhost"))
        #expect(plain.user == "guest" && plain.password == "guest")
        #expect(plain.port == 5672 && plain.virtualHost == "/")
        let tls = try #require(BrokerURL("AMQPS://[::1]/"))
        #expect(tls.usesTLS && tls.port == 5671 && tls.host == "::1" && tls.virtualHost == "/")
        #expect(try #require(BrokerURL("amqp://h//")).virtualHost == "/")
        #expect(try #require(BrokerURL("amqp://h/%2F")).virtualHost == "/")
        #expect(try #require(BrokerURL("amqp://h/prod")).virtualHost == "prod")
    }

    @Test(
        "refuses what is not an AMQP URL",
        arguments: [
            ("localhost:5672", "it needs a scheme, amqp:// or amqps://"),
            ("http://localhost", "the scheme must be amqp or amqps, not \"http\""),
            ("amqp://", "the host is missing"),
            ("amqp://user:pw@", "the host is missing"),
            ("amqp://h:99999", "the port must be a number from 1 to 65535, not \"99999\""),
            ("amqp://h:port", "the port must be a number from 1 to 65535, not \"port\""),
            ("amqp://h/%zz", "the vhost has a bad percent-escape"),
            ("amqp://h?heartbeat=10", "query parameters are not supported; set broker.heartbeat and broker.tls instead"),
            ("amqp://[::1", "an IPv6 address needs its closing ]"),
            ("amqp://user:pa/ss@host/", "write / ? # in the user name or password as %2F %3F %23"),
            ("amqp://user:pa#ss@host/", "write / ? # in the user name or password as %2F %3F %23"),
        ])
    func refuses(text: String, detail: String) {
        #expect(BrokerURL(text) == nil)
        guard case .failure(let failure) = BrokerURL.parse(text) else {
            Issue.record("\(text) was accepted")
            return
        }
        #expect(failure.detail == detail)
    }

    @Test(
        "masks the password in any URL",
        arguments: [
            ("amqp://guest:guest@127.0.0.1:5672/%2F", "amqp://guest:****@127.0.0.1:5672/%2F"),
            ("amqps://app:s3cr%40t@rabbit:5671/prod", "amqps://app:****@rabbit:5671/prod"),
            ("amqp://user@host/", "amqp://user@host/"),
            ("amqp://host:5672/", "amqp://host:5672/"),
            ("amqp://user:@host", "amqp://user:****@host"),
            ("amqp://us:p@ss@host", "amqp://us:****@host"),
            ("amqp://u:pw@h:99999", "amqp://u:****@h:99999"),
            ("amqp://u:pa/ss?x#y@h/vh", "amqp://u:****@h/vh"),
            ("not a url", "not a url"),
            // Not URLs, but what an operator may put in WARREN_BROKER_URL by mistake: still masked.
            ("sec:SecretPW@127.0.0.1", "sec:****@127.0.0.1"),
            ("//user:pw@host/", "//user:****@host/"),
            ("amqp:/user:pw@host", "amqp:****@host"),
            ("amqp:user:pw@host", "amqp:****@host"),
            ("amqp://h/v\nuser:pw@host", "amqp://h/v\nuser:****@host"),
        ])
    func masks(url: String, masked: String) {
        #expect(BrokerURL.maskingPassword(in: url) == masked)
    }

    @Test("never prints a password")
    func descriptions() throws {
        let url = try #require(BrokerURL("amqp://app:hunter2@rabbit:5672/prod"))
        #expect(url.description == "amqp://app:****@rabbit:5672/prod")
        #expect("\(url)" == "amqp://app:****@rabbit:5672/prod")
        let broker = BrokerConfig(urls: [url, try #require(BrokerURL("amqp://b:other@rabbit2"))])
        #expect(broker.description == "amqp://app:****@rabbit:5672/prod, amqp://b:****@rabbit2 (heartbeat 30s)")
        #expect(!String(describing: broker).contains("hunter2"))
        #expect(!String(reflecting: url).contains("hunter2"))
        #expect(!String(reflecting: broker).contains("hunter2"))
    }
}
