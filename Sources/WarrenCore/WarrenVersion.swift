/// Warren: an AMQP worker runtime. Applications register Swift task handlers by name; Warren
/// consumes task messages from RabbitMQ and runs them in supervised child processes.
public enum WarrenVersion {
    /// The version of this runtime.
    public static let current = "0.1.0"
}
