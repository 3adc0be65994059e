# The server as a process of its own, built from test/serve/serve_main.cpp
# and your tuned_server.cpp, once per variant: AC7 starts it with a low limit
# on open files and checks that it raised the limit, and the workbook's
# benchmark (bench/) puts 10K connections on it from another process.
workbook_task_tool(serve
  SOURCES "${WORKBOOK_TASK_DIR}/test/serve/serve_main.cpp")
