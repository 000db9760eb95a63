// The Swift side of scripts/bench: the same work as bench/c/amqp_bench_ref.c, through the AMQP module.
//
//   AMQPBench publish HOST PORT QUEUE COUNT SIZE            publish COUNT persistent SIZE-byte messages
//   AMQPBench consume HOST PORT QUEUE COUNT PREFETCH        consume COUNT messages, ack each (one thread)
//   AMQPBench consume-thread HOST PORT QUEUE COUNT PREFETCH the same through AMQPConnectionThread:
//        deliveries cross to an async task, acks go back through the waker (what workers do)
//   AMQPBench prefill-tasks HOST PORT QUEUE COUNT TASK [REPLY_TO]
//        publish COUNT Celery-v2 tasks straight to QUEUE, each with its own id (header id and
//        root_id, correlation_id, message_id); with REPLY_TO, workers answer there (rpc://).
//        QUEUE may be a comma-separated list: the tasks then go round-robin over those queues
//   AMQPBench client-send HOST PORT QUEUE COUNT TASKS
//        WarrenClient.publish of COUNT Celery-v2 task messages (each its own id, persistent) from
//        TASKS concurrent tasks on one client: every publish returns after the broker's confirm,
//        so up to TASKS are unconfirmed at once (the confirms stream back). The client's exchange
//        is the default one and the task is named QUEUE, so each lands in QUEUE (declared
//        durable here). Timed after a first publish has connected the client
//   AMQPBench thread-confirm HOST PORT QUEUE COUNT TASKS
//        the same messages through AMQPConnectionThread.publish from TASKS tasks, no client
//   AMQPBench control-flood HOST PORT NODE COUNT RATE
//        publish COUNT remote-control messages to the celery.pidbox exchange, RATE a second at
//        most: every other one a ping for NODE asking for a reply (to a routing key nobody
//        consumes), the others not JSON; no confirms. Meant to run (and be killed) beside a worker
//   AMQPBench drain HOST PORT QUEUE COUNT INTERVAL_MS     wait until QUEUE is empty; prints the time it took
//        (started just before a worker, it times the worker from exec to the last task taken)
//
// Prints one line: "<mode> <count> <seconds> <msgs_per_s> rss_kib_start=<n> rss_kib_end=<n>".
import AMQP
import Warren

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

func rssKiB() -> Int {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var pages = 0, resident = 0
    _ = withUnsafeMutablePointer(to: &pages) { p in
        withUnsafeMutablePointer(to: &resident) { r in
            withVaList([p, r]) { vfscanf(f, "%ld %ld", $0) }
        }
    }
    return resident * 4
}

func fail(_ message: String) -> Never {
    fputs("AMQPBench: \(message)\n", stderr)
    exit(1)
}

let args = CommandLine.arguments
guard args.count == 7 || (args.count == 8 && args[1] == "prefill-tasks"), let port = Int(args[3]),
    let count = Int(args[5])
else {
    fail("usage: AMQPBench publish|consume|consume-thread|client-send HOST PORT QUEUE COUNT SIZE|PREFETCH|TASKS")
}
let (mode, host, queue) = (args[1], args[2], args[4])
let param = Int(args[6]) ?? 0
var configuration = AMQPConnection.Configuration()
configuration.host = host
configuration.port = port
configuration.heartbeat = .seconds(30)

func report(_ start: ContinuousClock.Instant, _ rssStart: Int) {
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print(
        "\(mode) \(count) \(String(format3(seconds))) \(Int((Double(count) / seconds).rounded())) rss_kib_start=\(rssStart) rss_kib_end=\(rssKiB())"
    )
}

func format3(_ x: Double) -> String {
    let scaled = Int((x * 1000).rounded())
    let frac = String(scaled % 1000)
    return "\(scaled / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
}

do {
    switch mode {
    case "publish", "consume":
        let connection = try AMQPConnection(configuration)
        let channel = try connection.openChannel()
        try channel.declareQueue(queue, durable: true)
        let rssStart = rssKiB()
        let start = ContinuousClock.now
        if mode == "publish" {
            let body = [UInt8](repeating: UInt8(ascii: "x"), count: param)
            let properties = AMQPBasicProperties(contentType: "application/octet-stream", deliveryMode: .persistent)
            for _ in 0..<count { try channel.publish(body, routingKey: queue, properties: properties) }
            _ = try channel.inspectQueue(queue)  // a round trip: every publish reached the broker
        } else {
            try channel.setPrefetch(UInt16(param))
            try channel.consume(queue: queue)
            var received = 0
            while received < count {
                guard case .delivery(let d) = try connection.nextEvent(timeout: .seconds(30)) else { continue }
                try channel.ack(d.deliveryTag)
                received += 1
            }
        }
        report(start, rssStart)
        try channel.close()
        connection.close()
    case "prefill-tasks":
        let connection = try AMQPConnection(configuration)
        let channel = try connection.openChannel()
        let queues = queue.split(separator: ",").map(String.init)
        for queue in queues { try channel.declareQueue(queue, durable: true) }
        try channel.enableConfirms()
        let replyTo = args.count == 8 ? args[7] : nil
        let message = TaskMessage(name: args[6], args: [], kwargs: [:], replyTo: replyTo).encoded()
        let rssStart = rssKiB()
        let start = ContinuousClock.now
        for i in 0..<count {
            var properties = message.properties
            let id = "bench-\(i)"
            properties.headers?["id"] = .string(id)
            properties.headers?["root_id"] = .string(id)
            properties.correlationID = id
            properties.messageID = id
            try channel.publish(message.body, routingKey: queues[i % queues.count], properties: properties)
            if i % 10_000 == 9_999 { _ = try channel.waitForConfirms(timeout: .seconds(60)) }
        }
        _ = try channel.waitForConfirms(timeout: .seconds(60))
        report(start, rssStart)
        connection.close()
    case "client-send":
        let setup = try AMQPConnection(configuration)
        try setup.openChannel().declareQueue(queue, durable: true)
        setup.close()
        let client = WarrenClient(configuration: try .init(url: "amqp://guest:guest@\(host):\(port)/%2F", exchange: ""))
        try await client.publish(TaskMessage(name: queue))  // connects; not timed (nor counted)
        let tasks = max(1, param)
        let rssStart = rssKiB()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                let share = count / tasks + (t < count % tasks ? 1 : 0)
                group.addTask {
                    for _ in 0..<share { try await client.publish(TaskMessage(name: queue)) }
                }
            }
            try await group.waitForAll()
        }
        report(start, rssStart)
        await client.close()
    case "thread-confirm":
        // The same messages as client-send, through AMQPConnectionThread.publish straight (no
        // client): what WarrenClient adds on top of the connection thread.
        let io = try await AMQPConnectionThread(configuration)
        _ = try await io.perform { connection throws(AMQPError) in
            try connection.openChannel(1).declareQueue(queue, durable: true)
        }
        // AMQP_BENCH_RAW=1: the C reference's 100-byte persistent messages instead (the broker's share).
        let raw = getenv("AMQP_BENCH_RAW") != nil
        let rawBody = [UInt8](repeating: UInt8(ascii: "x"), count: 100)
        let rawProperties = AMQPBasicProperties(contentType: "application/octet-stream", deliveryMode: .persistent)
        let tasks = max(1, param)
        let rssStart = rssKiB()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                let share = count / tasks + (t < count % tasks ? 1 : 0)
                group.addTask {
                    for _ in 0..<share {
                        let outcome: AMQPChannel.PublishOutcome
                        if raw {
                            outcome = try await io.publish(rawBody, routingKey: queue, properties: rawProperties, on: 1)
                        } else {
                            let encoded = TaskMessage(name: queue).encoded()
                            outcome = try await io.publish(encoded.body, routingKey: queue, properties: encoded.properties, on: 1)
                        }
                        guard case .acked = outcome else { fail("not acked: \(outcome)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        report(start, rssStart)
        await io.close()
    case "control-flood":
        let connection = try AMQPConnection(configuration)
        let channel = try connection.openChannel()
        try channel.declareExchange("celery.pidbox", type: "fanout", durable: false)
        let ping = Array(
            #"{"method": "ping", "arguments": {}, "destination": ["\#(queue)"], "ticket": "flood", "reply_to": {"exchange": "reply.celery.pidbox", "routing_key": "bench-flood"}}"#
                .utf8)
        let garbage = Array("not a control request".utf8)
        let properties = AMQPBasicProperties(contentType: "application/json", deliveryMode: .transient)
        let start = ContinuousClock.now
        for i in 0..<count {
            try channel.publish(i % 2 == 0 ? ping : garbage, exchange: "celery.pidbox", routingKey: "", properties: properties)
            if param > 0, i % 50 == 49 {
                let due = start + .milliseconds(Int64((Double(i + 1) / Double(param)) * 1000))
                let now = ContinuousClock.now
                if due > now { _ = try connection.nextEvent(timeout: due - now) }  // heartbeats go on meanwhile
            }
        }
        report(start, 0)
        connection.close()
    case "drain":
        let connection = try AMQPConnection(configuration)
        let channel = try connection.openChannel()
        let interval = Duration.milliseconds(param)
        let start = ContinuousClock.now
        while try channel.inspectQueue(queue).messageCount > 0 {
            _ = try connection.nextEvent(timeout: interval)  // keeps heartbeats going while it waits
        }
        report(start, 0)
        connection.close()
    case "consume-thread":
        let io = try await AMQPConnectionThread(configuration)
        try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel()
            try channel.declareQueue(queue, durable: true)
            try channel.setPrefetch(UInt16(param))
            try channel.consume(queue: queue)
        }
        let rssStart = rssKiB()
        let start = ContinuousClock.now
        var received = 0
        for await event in io.events {
            guard case .delivery(let d) = event else { continue }
            io.ack(d, multiple: true)  // handled in order: every earlier delivery is settled
            received += 1
            if received == count { break }
        }
        report(start, rssStart)
        await io.close()
    default:
        fail("unknown mode \(mode)")
    }
} catch {
    fail("\(error)")
}
