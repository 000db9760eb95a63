import Testing

@testable import WarrenCore

@Suite("Config: node_name, control, events")
struct NodeConfigTests {
    private func load(_ yaml: String) throws(ConfigurationError) -> WarrenConfiguration { try ConfigText.load(yaml) }

    private func problems(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        ConfigText.problems(yaml, sourceLocation: sourceLocation)
    }

    @Test("defaults: warren@<hostname>, control on with the default list, events off")
    func defaults() throws {
        let config = try load("queues: { q: }\n")
        #expect(config.nodeName == nil)
        #expect(config.resolvedNodeName(hostname: "web-3") == "warren@web-3")
        #expect(config.control == ControlConfig(enabled: true, allow: ControlConfig.defaultAllow))
        #expect(!config.events)
        for method in ["shutdown", "pool_grow", "pool_shrink", "time_limit"] {
            #expect(!config.control.allows(method))
        }
        #expect(config.control.allows("ping") && config.control.allows("revoke"))
    }

    @Test("values are read")
    func reads() throws {
        let config = try load(
            """
            queues: { q: }
            node_name: warren@web-3
            control:
              enabled: false
              allow: [ping, shutdown]
            events: true
            """)
        #expect(config.resolvedNodeName(hostname: "x") == "warren@web-3")
        #expect(config.control == ControlConfig(enabled: false, allow: ["ping", "shutdown"]))
        #expect(!config.control.allows("ping"))
        #expect(config.events)
    }

    @Test("wrong values are refused with line and key")
    func refused() {
        #expect(
            problems("queues: { q: }\ncontrol:\n  allow: [ping, stat]\n") == [
                "warren.yaml:3:17: control.allow[1]: expected a remote-control method, got \"stat\" (did you mean \"stats\"?)"
            ])
        #expect(
            problems("queues: { q: }\ncontrol: { enabeld: true }\n") == [
                "warren.yaml:2:12: control.enabeld: unknown key, did you mean \"enabled\"?"
            ])
        #expect(problems("queues: { q: }\nevents: sometimes\n") == ["warren.yaml:2:9: events: expected true or false, got \"sometimes\""])
        #expect(
            problems("queues: { q: }\nnode_name: \"warren web\"\n") == [
                "warren.yaml:2:12: node_name: must not contain spaces or control characters, like warren@web-3"
            ])
        let long = String(repeating: "n", count: 201)
        #expect(problems("queues: { q: }\nnode_name: \(long)\n").first?.contains("must be 1 to 200 bytes") == true)
    }

    @Test("describe() prints them, and what it prints loads back")
    func describes() throws {
        let config = try load("queues: { q: }\nnode_name: warren@a\ncontrol: { allow: [ping] }\nevents: true\n")
        let text = config.describe()
        #expect(text.contains("node_name: \"warren@a\""))
        #expect(text.contains("control:\n  enabled: true\n  allow: [ping]\nevents: true"))
        let again = try load(text)
        #expect(again.nodeName == config.nodeName && again.control == config.control && again.events == config.events)
    }
}
