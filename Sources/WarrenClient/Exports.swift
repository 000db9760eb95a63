// An app imports `WarrenClient` alone: the task types it sends and receives (TaskDefinition,
// TaskMessage, JSONValue, TaskFailed, the config loader) come from WarrenCore with it.
@_exported import WarrenCore
