# AC7 sends a real SIGTERM to a real process: this builds that process, a
# small main around your server (test/serve/serve_main.cpp), once per variant.
workbook_task_tool(serve
  SOURCES "${WORKBOOK_TASK_DIR}/test/serve/serve_main.cpp")
