// warren-demo: a Warren worker binary with the demo tasks. `warren-demo --help` lists its verbs.
import Warren

let worker = Worker(name: "warren-demo")
DemoTasks.register(on: worker)
await worker.main()
