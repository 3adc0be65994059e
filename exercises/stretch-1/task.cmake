# Stretch 1 wraps what tasks 18 and 19 built: options.breaker is your
# circuit_breaker and options.retry your retrier. Your stub links your own
# breaker.cpp and retry.cpp; the reference links theirs.
workbook_task_uses(task-18 task-19)
