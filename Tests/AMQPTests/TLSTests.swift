import AMQP
import Testing

@Suite("TLS", .serialized, .enabled(if: TestBroker.available, TestBroker.skipReason))
struct TLSTests {
    static func configuration(ca: String?) throws -> AMQPConnection.Configuration? {
        guard let url = TestBroker.tlsURL else {
            try #require(!TestBroker.required, "WARREN_TEST_AMQPS_URL must be set when the broker is required")
            return nil
        }
        var c = try AMQPConnection.Configuration(url: url)
        c.tls?.caCertificatePath = ca
        c.connectTimeout = .seconds(5)
        return c
    }

    @Test("amqps with peer and hostname verification against the test CA")
    func verifiedConnection() throws {
        guard let c = try Self.configuration(ca: TestBroker.environment["WARREN_TEST_TLS_CA"]) else { return }
        #expect(c.tls?.verifyPeer == true && c.tls?.verifyHostname == true)
        let connection = try AMQPConnection(c)
        defer { connection.close() }
        let channel = try connection.openChannel()
        let q = try channel.declareQueue("", exclusive: true).name
        #expect(try channel.publishConfirmed(Array("over tls".utf8), routingKey: q) == .acked)
        #expect(try channel.get(queue: q, noAck: true)?.body == Array("over tls".utf8))
    }

    @Test("a broker reached by IP address is verified against the certificate's IP SAN (127.0.0.1)")
    func verifiedByIPAddress() throws {
        guard var c = try Self.configuration(ca: TestBroker.environment["WARREN_TEST_TLS_CA"]) else { return }
        c.host = "127.0.0.1"
        #expect(c.tls?.verifyPeer == true && c.tls?.verifyHostname == true)
        let connection = try AMQPConnection(c)
        connection.close()
        // Still verified: the same address with a CA that signed nothing of the broker's is refused.
        c.tls?.caCertificatePath = TestBroker.environment["WARREN_TEST_TLS_UNTRUSTED_CA"]
        #expect(throws: AMQPError.self) { try AMQPConnection(c) }
    }

    @Test("a broker certificate signed by an untrusted CA is refused")
    func untrustedRefused() throws {
        guard let c = try Self.configuration(ca: TestBroker.environment["WARREN_TEST_TLS_UNTRUSTED_CA"]) else { return }
        #expect {
            try AMQPConnection(c)
        } throws: { error in
            let e = error as! AMQPError
            return e.code == .tls && e.description.contains("TLS handshake with")
        }
    }

    @Test("a client certificate is presented when configured")
    func clientCertificate() throws {
        guard var c = try Self.configuration(ca: TestBroker.environment["WARREN_TEST_TLS_CA"]) else { return }
        c.tls?.certificatePath = TestBroker.environment["WARREN_TEST_TLS_CLIENT_CERT"]
        c.tls?.keyPath = TestBroker.environment["WARREN_TEST_TLS_CLIENT_KEY"]
        let connection = try AMQPConnection(c)
        connection.close()
        // Still verified: the same address with a CA that signed nothing of the broker's is refused.
        c.tls?.caCertificatePath = TestBroker.environment["WARREN_TEST_TLS_UNTRUSTED_CA"]
        #expect(throws: AMQPError.self) { try AMQPConnection(c) }
    }

    @Test("an unreadable CA file is a clear TLS error")
    func missingCAFile() throws {
        var c = try AMQPConnection.Configuration(url: "amqps://localhost:1")
        c.tls?.caCertificatePath = "/nonexistent/ca.pem"
        #expect {
            try AMQPConnection(c)
        } throws: { error in
            let e = error as! AMQPError
            return e.code == .tls && e.description.contains("/nonexistent/ca.pem")
        }
    }
}
