internal import CRabbitMQ

/// A librabbitmq memory pool for building the C structures of one call (header tables, argument
/// tables, property strings). Everything allocated is valid until ``recycle()``; the connection
/// recycles it after each call, so encoding allocates nothing from the Swift heap in steady state.
final class ScratchPool {
    private let pool: UnsafeMutablePointer<amqp_pool_t>

    init() {
        pool = .allocate(capacity: 1)
        init_amqp_pool(pool, 16 * 1024)
    }

    deinit {
        empty_amqp_pool(pool)
        pool.deallocate()
    }

    /// Frees what the last call allocated (keeping the first page for the next).
    func recycle() { recycle_amqp_pool(pool) }

    func bytes(_ string: String) -> amqp_bytes_t {
        var s = string
        return s.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t {
        array.withUnsafeBytes { bytes($0) }
    }

    func bytes(_ raw: UnsafeRawBufferPointer) -> amqp_bytes_t {
        guard raw.count > 0, let src = raw.baseAddress, let dst = amqp_pool_alloc(pool, raw.count) else {
            return amqp_empty_bytes
        }
        dst.copyMemory(from: src, byteCount: raw.count)
        return amqp_bytes_t(len: raw.count, bytes: dst)
    }

    func table(_ table: AMQPTable?) -> amqp_table_t {
        guard let table, !table.isEmpty else { return amqp_empty_table }
        let entries = allocate(amqp_table_entry_t.self, count: table.count)
        for (i, entry) in table.enumerated() {
            entries[i] = amqp_table_entry_t(key: bytes(entry.key), value: value(entry.value))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    func array(_ values: [AMQPValue]) -> amqp_array_t {
        guard !values.isEmpty else { return amqp_array_t(num_entries: 0, entries: nil) }
        let entries = allocate(amqp_field_value_t.self, count: values.count)
        for (i, v) in values.enumerated() { entries[i] = value(v) }
        return amqp_array_t(num_entries: Int32(values.count), entries: entries)
    }

    func value(_ value: AMQPValue) -> amqp_field_value_t {
        var f = amqp_field_value_t()
        switch value {
        case .bool(let v): f.kind = kind(AMQP_FIELD_KIND_BOOLEAN); f.value.boolean = v ? 1 : 0
        case .int8(let v): f.kind = kind(AMQP_FIELD_KIND_I8); f.value.i8 = v
        case .uint8(let v): f.kind = kind(AMQP_FIELD_KIND_U8); f.value.u8 = v
        case .int16(let v): f.kind = kind(AMQP_FIELD_KIND_I16); f.value.i16 = v
        case .uint16(let v): f.kind = kind(AMQP_FIELD_KIND_U16); f.value.u16 = v
        case .int32(let v): f.kind = kind(AMQP_FIELD_KIND_I32); f.value.i32 = v
        case .uint32(let v): f.kind = kind(AMQP_FIELD_KIND_U32); f.value.u32 = v
        case .int64(let v): f.kind = kind(AMQP_FIELD_KIND_I64); f.value.i64 = v
        case .uint64(let v): f.kind = kind(AMQP_FIELD_KIND_U64); f.value.u64 = v
        case .float(let v): f.kind = kind(AMQP_FIELD_KIND_F32); f.value.f32 = v
        case .double(let v): f.kind = kind(AMQP_FIELD_KIND_F64); f.value.f64 = v
        case .decimal(let scale, let v):
            f.kind = kind(AMQP_FIELD_KIND_DECIMAL); f.value.decimal = amqp_decimal_t(decimals: scale, value: v)
        case .string(let s): f.kind = kind(AMQP_FIELD_KIND_UTF8); f.value.bytes = bytes(s)
        case .bytes(let b): f.kind = kind(AMQP_FIELD_KIND_BYTES); f.value.bytes = bytes(b)
        case .timestamp(let v): f.kind = kind(AMQP_FIELD_KIND_TIMESTAMP); f.value.u64 = v
        case .table(let t): f.kind = kind(AMQP_FIELD_KIND_TABLE); f.value.table = table(t)
        case .array(let a): f.kind = kind(AMQP_FIELD_KIND_ARRAY); f.value.array = array(a)
        case .void: f.kind = kind(AMQP_FIELD_KIND_VOID)
        }
        return f
    }

    private func kind(_ k: amqp_field_value_kind_t) -> UInt8 { UInt8(k.rawValue) }

    private func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        // amqp_pool_alloc aligns to 8 bytes, enough for every librabbitmq struct.
        guard let raw = amqp_pool_alloc(pool, MemoryLayout<T>.stride * count) else {
            fatalError("librabbitmq pool allocation of \(MemoryLayout<T>.stride * count) bytes failed: out of memory")
        }
        return raw.bindMemory(to: T.self, capacity: count)
    }
}

extension AMQPTable {
    /// Copies a librabbitmq table (and everything nested in it) into Swift values.
    init(_ c: amqp_table_t) {
        var entries: [(String, AMQPValue)] = []
        entries.reserveCapacity(Int(c.num_entries))
        if let base = c.entries {
            for i in 0..<Int(c.num_entries) {
                entries.append((String(amqpBytes: base[i].key), AMQPValue(base[i].value)))
            }
        }
        self.init(entries)
    }
}

extension AMQPValue {
    /// Copies a librabbitmq field value into a Swift value.
    init(_ f: amqp_field_value_t) {
        switch amqp_field_value_kind_t(UInt32(f.kind)) {
        case AMQP_FIELD_KIND_BOOLEAN: self = .bool(f.value.boolean != 0)
        case AMQP_FIELD_KIND_I8: self = .int8(f.value.i8)
        case AMQP_FIELD_KIND_U8: self = .uint8(f.value.u8)
        case AMQP_FIELD_KIND_I16: self = .int16(f.value.i16)
        case AMQP_FIELD_KIND_U16: self = .uint16(f.value.u16)
        case AMQP_FIELD_KIND_I32: self = .int32(f.value.i32)
        case AMQP_FIELD_KIND_U32: self = .uint32(f.value.u32)
        case AMQP_FIELD_KIND_I64: self = .int64(f.value.i64)
        case AMQP_FIELD_KIND_U64: self = .uint64(f.value.u64)
        case AMQP_FIELD_KIND_F32: self = .float(f.value.f32)
        case AMQP_FIELD_KIND_F64: self = .double(f.value.f64)
        case AMQP_FIELD_KIND_DECIMAL: self = .decimal(scale: f.value.decimal.decimals, value: f.value.decimal.value)
        case AMQP_FIELD_KIND_UTF8:
            let raw = [UInt8](amqpBytes: f.value.bytes)
            self = String(validating: raw, as: UTF8.self).map { .string($0) } ?? .bytes(raw)
        case AMQP_FIELD_KIND_BYTES: self = .bytes([UInt8](amqpBytes: f.value.bytes))
        case AMQP_FIELD_KIND_TIMESTAMP: self = .timestamp(f.value.u64)
        case AMQP_FIELD_KIND_TABLE: self = .table(AMQPTable(f.value.table))
        case AMQP_FIELD_KIND_ARRAY:
            var values: [AMQPValue] = []
            if let base = f.value.array.entries {
                values.reserveCapacity(Int(f.value.array.num_entries))
                for i in 0..<Int(f.value.array.num_entries) { values.append(AMQPValue(base[i])) }
            }
            self = .array(values)
        default: self = .void
        }
    }
}
