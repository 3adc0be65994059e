# Build speed is part of the lesson loop: a student's edit must reach a
# verdict in seconds. ccache and mold are used when installed.

find_program(WORKBOOK_CCACHE ccache)
if(WORKBOOK_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # Precompiled headers need these sloppiness settings to be cacheable.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      ${WORKBOOK_CCACHE})
  # For the student's own files, which change on every edit: ccache's depend
  # mode takes the include list from the compiler's -MD output instead of
  # running the preprocessor first, so a miss (every edit is one) costs no
  # more than the compile; with the precompiled header that first pass was
  # 0.7 s of task 20's edit-to-verdict loop. A hit is still a hit.
  set(workbook_student_ccache
      ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      "CCACHE_DEPEND=true"
      ${WORKBOOK_CCACHE})
endif()
# The student's own files are compiled through cmake/student-compile, which
# runs the compile as given, or under bubblewrap when `grader mark` builds a
# submission (the references hidden even from the assembler).
set(WORKBOOK_STUDENT_COMPILER_LAUNCHER "${CMAKE_SOURCE_DIR}/cmake/student-compile" ${workbook_student_ccache})
# compile_commands.json leaves the launcher out; `grader check` replays a
# task's compile commands through it (one argument a line) to see warnings.
list(JOIN CMAKE_CXX_COMPILER_LAUNCHER "\n" workbook_launcher_lines)
file(WRITE "${CMAKE_BINARY_DIR}/compiler-launcher.txt" "${workbook_launcher_lines}\n")

find_program(WORKBOOK_MOLD mold)
if(WORKBOOK_MOLD)
  add_link_options(-fuse-ld=mold)
endif()

option(WORKBOOK_WERROR "Treat warnings in project code as errors" OFF)

# Project code: -Wall -Wextra -Wpedantic. Applied per target (never to system headers).
add_library(workbook_warnings INTERFACE)
target_compile_options(workbook_warnings INTERFACE
  -Wall -Wextra -Wpedantic
  $<$<BOOL:${WORKBOOK_WERROR}>:-Werror>)

set(WORKBOOK_SANITIZER "" CACHE STRING "address | thread | empty")
if(WORKBOOK_SANITIZER STREQUAL "address")
  # Without UBSan's vptr check: on a cache miss it probes the object's memory
  # through a pipe(2), and with the descriptor table full (task 11's EMFILE
  # test does that on purpose) the probe fails and any virtual call, such as
  # error_code::message(), is reported as "object has invalid vptr".
  # AddressSanitizer still catches the use-after-free the check would flag.
  # Without Clang's `function` check too: Clang 14 cannot assemble what it
  # emits for a coroutine with debug info ("Cannot represent a difference
  # across sections"), and the workbook's client interface is a coroutine.
  set(workbook_ubsan_off vptr)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    set(workbook_ubsan_off vptr,function)
  endif()
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=${workbook_ubsan_off} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize=${workbook_ubsan_off})
elseif(WORKBOOK_SANITIZER STREQUAL "thread")
  add_compile_options(-fsanitize=thread)
  add_link_options(-fsanitize=thread)
elseif(NOT WORKBOOK_SANITIZER STREQUAL "")
  message(FATAL_ERROR "WORKBOOK_SANITIZER must be 'address', 'thread' or empty, not '${WORKBOOK_SANITIZER}'")
endif()
