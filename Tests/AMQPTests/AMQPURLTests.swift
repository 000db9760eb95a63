import Testing
@testable import AMQP

@Suite("Connection URLs")
struct AMQPURLTests {
    @Test("amqp:// with user, password, host, port and %2F vhost")
    func full() throws {
        let c = try AMQPConnection.Configuration(url: "amqp://alice:s%40cret@rabbit.local:5673/%2F")
        #expect(c.user == "alice")
        #expect(c.password == "s@cret")
        #expect(c.host == "rabbit.local")
        #expect(c.port == 5673)
        #expect(c.virtualHost == "/")
        #expect(c.tls == nil)
    }

    @Test("defaults: guest, 127.0.0.1, 5672, vhost /")
    func defaults() throws {
        let c = try AMQPConnection.Configuration(url: "amqp://")
        #expect(c.user == "guest" && c.password == "guest")
        #expect(c.host == "127.0.0.1" && c.port == 5672 && c.virtualHost == "/")
        #expect(try AMQPConnection.Configuration(url: "amqp://h/").virtualHost == "/")
        #expect(try AMQPConnection.Configuration(url: "amqp://h/prod").virtualHost == "prod")
    }

    @Test("amqps:// turns TLS on, port 5671, peer verification on by default")
    func tls() throws {
        let c = try AMQPConnection.Configuration(url: "amqps://u:p@broker/vh?cacertfile=/etc/ca.pem&heartbeat=15&name=worker-1")
        #expect(c.port == 5671)
        #expect(c.tls?.verifyPeer == true && c.tls?.verifyHostname == true)
        #expect(c.tls?.caCertificatePath == "/etc/ca.pem")
        #expect(c.heartbeat == .seconds(15))
        #expect(c.connectionName == "worker-1")
        let none = try AMQPConnection.Configuration(url: "amqps://broker?verify=verify_none")
        #expect(none.tls?.verifyPeer == false)
    }

    @Test("IPv6 literal host")
    func ipv6() throws {
        let c = try AMQPConnection.Configuration(url: "amqp://[::1]:5700/%2F")
        #expect(c.host == "::1" && c.port == 5700)
    }

    @Test(
        "bad URLs are refused with what is wrong, password masked",
        arguments: [
            ("http://h", "scheme"), ("amqp://h:99999", "port"), ("amqp://u:p@h?bogus=1", "unknown query parameter 'bogus'"),
            ("amqp://u:%zz@h", "percent-escape"), ("amqp://h?heartbeat=x", "'heartbeat' must be a whole number"),
        ])
    func invalid(url: String, expected: String) {
        #expect {
            try AMQPConnection.Configuration(url: url)
        } throws: { error in
            let e = error as! AMQPError
            return e.code == .invalidURL && e.description.contains(expected) && !e.description.contains(":p@")
        }
    }

    @Test("passwords are masked in printed URLs")
    func redaction() throws {
        #expect(AMQPConnection.Configuration.redact("amqp://u:secret@h:5672/%2F") == "amqp://u:****@h:5672/%2F")
        #expect(AMQPConnection.Configuration.redact("amqps://h:5671") == "amqps://h:5671")
        let c = try AMQPConnection.Configuration(url: "amqp://u:secret@h/v")
        #expect(c.redactedURL == "amqp://u:****@h:5672/v")
        #expect(!c.redactedURL.contains("secret"))
    }
}
