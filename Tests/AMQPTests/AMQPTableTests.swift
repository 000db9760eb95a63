import Testing
@testable import AMQP

@Suite("AMQPTable")
struct AMQPTableTests {
    @Test("keeps wire order and duplicate keys; subscript reads the first")
    func orderAndDuplicates() {
        var t = AMQPTable([("b", 1), ("a", "x"), ("b", 2)])
        #expect(t.keys == ["b", "a", "b"])
        #expect(t["b"] == .int64(1))
        t["a"] = .bool(true)
        #expect(t["a"] == .bool(true))
        t["b"] = nil
        #expect(t.keys == ["a"])
        t["c"] = .void
        #expect(t.keys == ["a", "c"])
    }

    @Test("typed accessors convert only what fits")
    func accessors() {
        #expect(AMQPValue.int8(-3).intValue == -3)
        #expect(AMQPValue.uint64(.max).intValue == nil)
        #expect(AMQPValue.decimal(scale: 2, value: 1234).doubleValue == 12.34)
        #expect(AMQPValue.bytes(Array("hé".utf8)).stringValue == "hé")
        #expect(AMQPValue.bytes([0xff]).stringValue == nil)
        #expect(AMQPValue.string("x").intValue == nil)
    }
}
