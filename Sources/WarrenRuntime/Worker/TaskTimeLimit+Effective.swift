import WarrenCore
extension TaskTimeLimit {
    /// The shortest limit a message's `timelimit` header may set. Below it a publisher could have
    /// every child that takes the message killed at once (0.001 s got one SIGKILLed three times
    /// per message): the floor leaves a handler time to notice its cancellation.
    static let headerFloor = Duration.seconds(1)

    /// The limits a task runs under, from the operator's queue `time_limit` and the message's
    /// own `timelimit` header (`self`).
    ///
    /// The operator's limit is the ceiling: a header may only lower it, never raise it (a
    /// `[1e12, 1e12]` header let a task outrun a 3 s queue limit). Header values are raised to
    /// ``headerFloor``. Without a queue limit the header's limits apply as Celery's do. The hard
    /// limit defaults to the soft one plus `grace`, and is never below the soft one.
    ///
    /// - Parameter queueHard: The operator's hard limit when it is not `queueLimit + grace` (a
    ///   `time_limit` remote-control override may set both).
    func effective(queueLimit: Duration?, queueHard: Duration? = nil, grace: Duration) -> TaskTimeLimit {
        let floor = Self.headerFloor
        let queueHard = queueHard ?? queueLimit.map { $0 + grace }
        // The operator's hard limit caps the soft one too (a header's soft limit cannot push it up).
        var soft = Self.lower(queueLimit, soft.map { max($0, floor) })
        if let s = soft, let h = queueHard, s > h { soft = h }
        var hard = Self.lower(queueHard, hard.map { max($0, floor) }) ?? soft.map { $0 + grace }
        if let s = soft, let h = hard, h < s { hard = s }
        return TaskTimeLimit(hard: hard, soft: soft)
    }

    /// The smaller of the two limits, `nil` meaning none.
    private static func lower(_ a: Duration?, _ b: Duration?) -> Duration? {
        switch (a, b) {
        case (let a?, let b?): min(a, b)
        case (let a?, nil): a
        case (nil, let b): b
        }
    }
}
