# The server as a process of its own, built from test/serve/serve_main.cpp
# and your records.cpp, once per variant: what you point curl at by hand,
# and what the workbook's benchmark (bench/task-15-records) measures against
# a Go server of the same shape. No test runs it.
workbook_task_tool(serve
  SOURCES "${WORKBOOK_TASK_DIR}/test/serve/serve_main.cpp")
