import AMQP
import Foundation
import Testing

@Suite("Connection", .serialized, .enabled(if: TestBroker.available, TestBroker.skipReason))
struct ConnectionTests {
    @Test("connects, negotiates heartbeat and frame size, reads the server's properties")
    func connects() throws {
        let connection = try TestBroker.connect(heartbeat: .seconds(7))
        defer { connection.close() }
        #expect(connection.isOpen)
        #expect(connection.heartbeat == .seconds(7))
        #expect(connection.frameMax == 131_072)
        #expect(connection.serverProperties["product"]?.stringValue == "RabbitMQ")
    }

    @Test("nothing listening: a clear connectionFailed error naming the address")
    func refused() throws {
        var c = TestBroker.configuration()
        c.port = 1  // nothing listens on port 1
        #expect {
            try AMQPConnection(c)
        } throws: { error in
            let e = error as! AMQPError
            return e.code == .connectionFailed && e.description.contains("cannot connect to \(c.host):1")
                && !e.description.contains("in progress")
        }
    }

    @Test("bad credentials: authenticationFailed with the broker's ACCESS_REFUSED text")
    func badCredentials() throws {
        var c = TestBroker.configuration()
        c.password = "definitely-wrong"
        #expect {
            try AMQPConnection(c)
        } throws: { error in
            let e = error as! AMQPError
            return e.code == .authenticationFailed && e.serverClose?.replyCode == 403
                && e.description.hasPrefix("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN")
                && !e.description.contains("definitely-wrong")
        }
    }

    @Test("an unknown vhost is refused as an authentication failure")
    func unknownVhost() throws {
        var c = TestBroker.configuration()
        c.virtualHost = "no-such-vhost"
        #expect {
            try AMQPConnection(c)
        } throws: { error in
            (error as! AMQPError).code == .authenticationFailed
        }
    }

    @Test("the connection name is shown by rabbitmqctl")
    func connectionName() throws {
        var c = TestBroker.configuration()
        let name = TestBroker.uniqueName("conn-name")
        c.connectionName = name
        let connection = try AMQPConnection(c)
        defer { connection.close() }
        guard let listing = try TestBroker.rabbitmqctl(["list_connections", "client_properties"]) else {
            try #require(!TestBroker.required, "WARREN_TEST_RABBITMQ_NODE must be set when the broker is required")
            return
        }
        #expect(listing.contains(name))
    }

    @Test("an idle connection stays alive through 4 heartbeat intervals")
    func heartbeatsKeepIdleConnectionAlive() throws {
        let connection = try TestBroker.connect(heartbeat: .seconds(1))
        defer { connection.close() }
        #expect(connection.heartbeat == .seconds(1))
        // The broker closes a connection that misses 2 heartbeats. Idle for 4 intervals, driven
        // only by the event loop's waits.
        let deadline = ContinuousClock.now + .seconds(4)
        while ContinuousClock.now < deadline {
            _ = connection.waitForInput(timeout: .seconds(10), waker: nil)
            #expect(try connection.nextEvent(timeout: .zero) == nil)
        }
        let channel = try connection.openChannel()
        let q = try channel.declareQueue("", exclusive: true)
        #expect(q.name.hasPrefix("amq.gen-"))
    }

    @Test("a connection the broker closes is reported dead, then every call fails fast")
    func forcedClose() throws {
        var c = TestBroker.configuration()
        let name = TestBroker.uniqueName("doomed")
        c.connectionName = name
        let connection = try AMQPConnection(c)
        defer { connection.close() }
        let channel = try connection.openChannel()
        guard try TestBroker.closeConnection(named: name, reason: "test says bye") else {
            try #require(!TestBroker.required, "WARREN_TEST_RABBITMQ_NODE must be set when the broker is required")
            return
        }
        let error = #expect(throws: AMQPError.self) {
            _ = try connection.waitFor("close", timeout: .seconds(10)) { _ in nil as Int? }
        }
        #expect(error?.code == .connectionClosed)
        #expect(error?.serverClose?.replyCode == 320)
        #expect(error?.description.contains("test says bye") == true)
        #expect(!connection.isOpen)
        let again = #expect(throws: AMQPError.self) { try channel.declareQueue("x") }
        #expect(again?.code == .connectionClosed)
    }
}
