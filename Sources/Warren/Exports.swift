// A worker binary imports `Warren` alone: the runtime, the client and the wire contract come
// with it, as they did before the layers became targets of their own.
@_exported import AMQP
@_exported import WarrenClient
@_exported import WarrenCore
@_exported import WarrenRuntime
