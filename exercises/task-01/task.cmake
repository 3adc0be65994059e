# AC2 checks your call-chain comment against what Asio really does: this
# builds a handler-tracking twin of each variant (stub and reference).
workbook_task_tool(trace
  SOURCES "${WORKBOOK_TASK_DIR}/test/trace/trace_main.cpp"
  ASIO_VARIANT tracking
  DEFINITIONS BOOST_ASIO_ENABLE_HANDLER_TRACKING)
