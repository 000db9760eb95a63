import Warren

print("warren-demo \(Warren.version)")
