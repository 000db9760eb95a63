/// What a supervisor puts in a child's environment, besides its own.
enum ChildEnvironment {
    /// The variable through which a child learns its supervisor's pid (its lifeline believes a
    /// parent-death signal only when its parent is no longer this process).
    static let supervisorPID = "WARREN_SUPERVISOR_PID"
}
