import AMQP

print("amqp-bench: not yet")
