# The profile names the functions it samples with dladdr(), which reads the
# dynamic symbol table, and an executable's own functions are in it only when
# it is linked with --export-dynamic (-rdynamic). ENABLE_EXPORTS does that;
# this variable sets it for every executable of this task made after this
# line: the test binaries (stub, reference, mutants) and the serve tool.
set(CMAKE_ENABLE_EXPORTS ON)

# The /hash server, the profiler and its debug endpoint as a process of
# their own, built from test/serve/serve_main.cpp and your profiler.cpp, once
# per variant: what you point curl and perf at (README, step 8). No test
# runs it.
workbook_task_tool(serve
  SOURCES "${WORKBOOK_TASK_DIR}/test/serve/serve_main.cpp")
