# Task 08 grades your tests as well as your handler. Each tool below is a
# Catch2 binary made of a set of tests and one handler, built once per
# variant: in the stub variant the tests are yours (your_tests/*.cpp), in
# the reference variant they are the reference's (which proves, in
# `grader selftest`, that the criteria can be met).
#
#   tests              the tests against the variant's own handler: yours
#                      against yours, to run while you work (not graded)
#   tests-vs-reference the tests against the reference handler (AC5)
#   tests-vs-<flaw>    the tests against a broken handler (AC6), one per
#                      file in solutions/task-08/broken/
file(GLOB task08_your_tests CONFIGURE_DEPENDS "${WORKBOOK_TASK_DIR}/your_tests/*.cpp")
file(GLOB task08_reference_tests CONFIGURE_DEPENDS "${WORKBOOK_SOLUTION_DIR}/reference_tests/*.cpp")

workbook_task_tool(tests CATCH_TESTS
  STUB_SOURCES ${task08_your_tests}
  REFERENCE_SOURCES ${task08_reference_tests})

# A student edition (grader export) holds neither the reference handler nor
# the broken ones: AC5 and AC6 are then marked by the instructor, and the
# tests say so (test/your_tests_test.cpp).
if(NOT EXISTS "${WORKBOOK_SOLUTION_DIR}/proxy_time.cpp")
  return()
endif()

workbook_task_tool(tests-vs-reference CATCH_TESTS
  STUB_SOURCES ${task08_your_tests}
  REFERENCE_SOURCES ${task08_reference_tests}
  IMPLEMENTATION "${WORKBOOK_SOLUTION_DIR}/proxy_time.cpp")

foreach(task08_flaw wrong_path untrimmed ok_on_failure no_status_check unchecked_body static_url)
  string(REPLACE "_" "-" task08_tool "tests-vs-${task08_flaw}")
  workbook_task_tool(${task08_tool} CATCH_TESTS
    STUB_SOURCES ${task08_your_tests}
    REFERENCE_SOURCES ${task08_reference_tests}
    IMPLEMENTATION "${WORKBOOK_SOLUTION_DIR}/broken/${task08_flaw}.cpp")
endforeach()
