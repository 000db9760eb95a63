import ArgumentParser

/// `dlq`: the dead-letter verbs (docs/dead-letters.md): `list`, `replay`, `purge`.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List, replay or purge dead letters (and messages in the unrouted queue).",
        discussion: """
            Every verb reads the queue (the dead-letter queue unless --queue says otherwise) \
            without losing a message: it fetches the messages ready when it starts, decides on \
            each, and gives back the ones it keeps in their places.
            """,
        subcommands: [DLQListCommand.self, DLQReplayCommand.self, DLQPurgeCommand.self])
}
