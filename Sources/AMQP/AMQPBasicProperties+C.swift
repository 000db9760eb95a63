internal import CRabbitMQ

extension AMQPBasicProperties {
    /// Copies librabbitmq properties (only the fields whose flag is set) into Swift values.
    init(_ p: amqp_basic_properties_t) {
        self.init()
        let flags = p._flags
        func has(_ flag: Int32) -> Bool { flags & amqp_flags_t(flag) != 0 }
        if has(AMQP_BASIC_CONTENT_TYPE_FLAG) { contentType = String(amqpBytes: p.content_type) }
        if has(AMQP_BASIC_CONTENT_ENCODING_FLAG) { contentEncoding = String(amqpBytes: p.content_encoding) }
        if has(AMQP_BASIC_HEADERS_FLAG) { headers = AMQPTable(p.headers) }
        if has(AMQP_BASIC_DELIVERY_MODE_FLAG) { deliveryMode = DeliveryMode(rawValue: p.delivery_mode) }
        if has(AMQP_BASIC_PRIORITY_FLAG) { priority = p.priority }
        if has(AMQP_BASIC_CORRELATION_ID_FLAG) { correlationID = String(amqpBytes: p.correlation_id) }
        if has(AMQP_BASIC_REPLY_TO_FLAG) { replyTo = String(amqpBytes: p.reply_to) }
        if has(AMQP_BASIC_EXPIRATION_FLAG) { expiration = String(amqpBytes: p.expiration) }
        if has(AMQP_BASIC_MESSAGE_ID_FLAG) { messageID = String(amqpBytes: p.message_id) }
        if has(AMQP_BASIC_TIMESTAMP_FLAG) { timestamp = p.timestamp }
        if has(AMQP_BASIC_TYPE_FLAG) { type = String(amqpBytes: p.type) }
        if has(AMQP_BASIC_USER_ID_FLAG) { userID = String(amqpBytes: p.user_id) }
        if has(AMQP_BASIC_APP_ID_FLAG) { appID = String(amqpBytes: p.app_id) }
        if has(AMQP_BASIC_CLUSTER_ID_FLAG) { clusterID = String(amqpBytes: p.cluster_id) }
    }

    /// Builds librabbitmq properties in `pool` (valid until the pool is recycled).
    func cValue(in pool: ScratchPool) -> amqp_basic_properties_t {
        var p = amqp_basic_properties_t()
        var flags: amqp_flags_t = 0
        func set(_ flag: Int32) { flags |= amqp_flags_t(flag) }
        if let contentType { p.content_type = pool.bytes(contentType); set(AMQP_BASIC_CONTENT_TYPE_FLAG) }
        if let contentEncoding {
            p.content_encoding = pool.bytes(contentEncoding); set(AMQP_BASIC_CONTENT_ENCODING_FLAG)
        }
        if let headers { p.headers = pool.table(headers); set(AMQP_BASIC_HEADERS_FLAG) }
        if let deliveryMode { p.delivery_mode = deliveryMode.rawValue; set(AMQP_BASIC_DELIVERY_MODE_FLAG) }
        if let priority { p.priority = priority; set(AMQP_BASIC_PRIORITY_FLAG) }
        if let correlationID { p.correlation_id = pool.bytes(correlationID); set(AMQP_BASIC_CORRELATION_ID_FLAG) }
        if let replyTo { p.reply_to = pool.bytes(replyTo); set(AMQP_BASIC_REPLY_TO_FLAG) }
        if let expiration { p.expiration = pool.bytes(expiration); set(AMQP_BASIC_EXPIRATION_FLAG) }
        if let messageID { p.message_id = pool.bytes(messageID); set(AMQP_BASIC_MESSAGE_ID_FLAG) }
        if let timestamp { p.timestamp = timestamp; set(AMQP_BASIC_TIMESTAMP_FLAG) }
        if let type { p.type = pool.bytes(type); set(AMQP_BASIC_TYPE_FLAG) }
        if let userID { p.user_id = pool.bytes(userID); set(AMQP_BASIC_USER_ID_FLAG) }
        if let appID { p.app_id = pool.bytes(appID); set(AMQP_BASIC_APP_ID_FLAG) }
        if let clusterID { p.cluster_id = pool.bytes(clusterID); set(AMQP_BASIC_CLUSTER_ID_FLAG) }
        p._flags = flags
        return p
    }
}
