extension RouteTable {
    /// Resolves the routes of configured queues, in order, against `taskNames`.
    ///
    /// - Parameters:
    ///   - queues: The configured queues, in the order of the file.
    ///   - taskNames: The registered task names.
    public init(queues: [QueueConfig], taskNames: some Sequence<String>) {
        self.init(queues: queues.map { (name: $0.name, routes: $0.routes) }, taskNames: taskNames)
    }
}
