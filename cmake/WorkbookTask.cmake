# A task is a directory pair, found by name; nothing central lists them:
#
#   exercises/task-NN/*.cpp        the stub the student edits
#   exercises/task-NN/test/*.cpp   Catch2 acceptance tests (one TU set, compiled once)
#   exercises/task-NN/task.cmake   optional: extra per-variant tools (see workbook_task_tool)
#   solutions/task-NN/*.cpp        the reference, same contract
#
# For each task this defines:
#   <id>-tests       OBJECT library: the test TUs, compiled once
#   <id>-stub-impl, <id>-reference-impl   OBJECT libraries: each implementation, compiled once
#   <id>-stub        the tests linked with the stub       (what `grader task-NN` runs)
#   <id>-reference   the tests linked with the reference  (`--reference`, selftest, ctest)
#                    (beside each binary, <binary>.variant says which it holds)
#   <id>-stub-all, <id>-reference-all   each binary with its tools (what the grader builds)
#   <id>             both
# and registers <id>-reference with CTest.

set(WORKBOOK_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")
set(WORKBOOK_TASK_PATTERN "^(task-[0-9][0-9]|stretch-[0-9])$")

function(workbook_discover_tasks)
  # What the sanitizer presets need and nothing more (.ci/run builds it):
  # every reference, and under ThreadSanitizer the mutants only it catches.
  add_custom_target(sanitizer-suite)
  file(GLOB entries LIST_DIRECTORIES true CONFIGURE_DEPENDS
       "${PROJECT_SOURCE_DIR}/exercises/*")
  list(SORT entries)
  foreach(entry IN LISTS entries)
    get_filename_component(id "${entry}" NAME)
    if(IS_DIRECTORY "${entry}" AND id MATCHES "${WORKBOOK_TASK_PATTERN}")
      workbook_add_task(${id})
    endif()
  endforeach()
endfunction()

# Inside a task's task.cmake: an executable the task's tests run, built once
# per variant (stub and reference) beside the test binary. The test finds it
# with workbook::tool("NAME").
#
#   workbook_task_tool(NAME
#     SOURCES files...             in both variants
#     STUB_SOURCES files...        only in the stub variant (e.g. the student's own tests)
#     REFERENCE_SOURCES files...   only in the reference variant
#     IMPLEMENTATION files...      instead of the variant's implementation
#                                  (e.g. a deliberately broken handler)
#     CATCH_TESTS                  a Catch2 test binary: links the harness and its main
#     ASIO_VARIANT v DEFINITIONS d...)  Asio and Beast compiled once more with
#                                  these definitions (e.g. handler tracking), shared
#                                  by every task that names the same variant
#
# Without CATCH_TESTS a tool links Asio/Beast only, not the harness.
function(workbook_task_tool NAME)
  cmake_parse_arguments(PARSE_ARGV 1 arg "CATCH_TESTS" "ASIO_VARIANT"
                        "SOURCES;STUB_SOURCES;REFERENCE_SOURCES;IMPLEMENTATION;DEFINITIONS")
  set(suffix "")
  if(arg_ASIO_VARIANT)
    if(arg_CATCH_TESTS)
      message(FATAL_ERROR "workbook_task_tool(${NAME}): CATCH_TESTS tools use the harness's Asio; no ASIO_VARIANT")
    endif()
    set(suffix "_${arg_ASIO_VARIANT}")
    workbook_asio_library(${suffix} ${arg_DEFINITIONS})
  elseif(arg_DEFINITIONS)
    message(FATAL_ERROR "workbook_task_tool(${NAME}): DEFINITIONS need an ASIO_VARIANT name")
  endif()
  foreach(field SOURCES STUB_SOURCES REFERENCE_SOURCES IMPLEMENTATION CATCH_TESTS)
    set(WORKBOOK_TOOL_${NAME}_${field} "${arg_${field}}" PARENT_SCOPE)
  endforeach()
  set(WORKBOOK_TOOL_${NAME}_SUFFIX "${suffix}" PARENT_SCOPE)
  set(WORKBOOK_TASK_TOOLS ${WORKBOOK_TASK_TOOLS} ${NAME} PARENT_SCOPE)
endfunction()

# Inside a task's task.cmake: the task builds on what earlier tasks
# implement (stretch 1 wraps task 18's breaker and task 19's retrier).
#
#   workbook_task_uses(task-18 task-19)
#
# The stub links the student's own files of those tasks (exercises/<task>/),
# the reference and its mutants their references; their contracts are on the
# include path of the tests and of every implementation.
function(workbook_task_uses)
  set(WORKBOOK_TASK_USES ${WORKBOOK_TASK_USES} ${ARGN} PARENT_SCOPE)
endfunction()

# Inside a task's task.cmake: harness libraries beyond workbook_harness that
# the task's tests and implementations link (each is kept out of that
# archive so that a change to it relinks only the tasks that use it).
#
#   workbook_task_libraries(workbook_tls_client workbook_tls_serve)
function(workbook_task_libraries)
  foreach(library IN LISTS ARGN)
    if(NOT library MATCHES "^workbook_" OR NOT TARGET ${library})
      set(WORKBOOK_TASK_PROBLEM "workbook_task_libraries(${library}): not a harness library; name one that harness/CMakeLists.txt defines, e.g. workbook_tls_client" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(WORKBOOK_TASK_LIBRARIES ${WORKBOOK_TASK_LIBRARIES} ${ARGN} PARENT_SCOPE)
endfunction()

# Inside a task's task.cmake: headers beside the stub that are the student's
# own (a private header the stub's .cpp files share), not the contract.
#
#   workbook_task_student_headers(balancer_impl.hpp)
#
# The build needs nothing from it (the reference has its own copy in
# solutions/); the grader reads it: `grader mark` takes these from the
# submission, `grader reset` restores them, `grader export` lists them.
function(workbook_task_student_headers)
endfunction()

# <binary>.variant, beside a test binary: which implementation it holds and
# where its tools are, one "key<TAB>value" a line (read by
# harness/src/implementation.cpp). A file, not a generated source: every
# mutant would otherwise compile one more translation unit.
function(_workbook_variant_info binary id variant ex sources tool_entries)
  set(content "task\t${id}\nname\t${variant}\nexercise_dir\t${ex}\n")
  foreach(s IN LISTS sources)
    string(APPEND content "source\t${s}\n")
  endforeach()
  file(GENERATE OUTPUT "${binary}.variant" CONTENT "${content}${tool_entries}")
endfunction()

function(_workbook_task_problem id file fix)
  message(WARNING "${id}: ${file}: ${fix}\n  (task ${id} is left out of the build until this is fixed)")
endfunction()

# One test binary (and its tools) for one implementation of a task: the stub,
# the reference, or a mutant of the reference.
#   IMPL        the implementation's sources
#   EXCLUDE     not part of `all` (mutants: built by <id>-mutants)
#   For mutants: SOLUTION and MUTANT_DIR, and TOUCHED, the files below
#   SOLUTION the mutant changes. Only those are compiled again: the rest of
#   the implementation is the reference's objects, and a tool none of whose
#   sources is touched is the reference's own tool, not built again.
function(_workbook_add_variant id variant)
  cmake_parse_arguments(PARSE_ARGV 2 arg "EXCLUDE" "TESTS;EX;OUT;SOLUTION;MUTANT_DIR" "IMPL;TOOLS;TOUCHED")
  set(ex "${arg_EX}")
  set(out "${arg_OUT}")
  set(impl ${arg_IMPL})
  set(exe ${id}-${variant})
  # A mutant is the reference with one mistake: its tools are the reference's.
  set(tool_variant ${variant})
  if(variant MATCHES "^mutant-")
    set(tool_variant reference)
  endif()
  string(TOUPPER ${tool_variant} VARIANT)

  _workbook_implementation_objects(impl_objects ${id} ${exe} "${impl}" "${ex}" "${arg_SOLUTION}"
                                   "${arg_MUTANT_DIR}" "${arg_TOUCHED}" ${arg_EXCLUDE})

  # Tools first: the variant's info file records where they are.
  set(tool_entries "")
  set(tool_targets "")
  foreach(tool IN LISTS arg_TOOLS)
    set(t ${id}-${variant}-${tool})
    set(suffix "${WORKBOOK_TOOL_${tool}_SUFFIX}")
    set(shared_sources ${WORKBOOK_TOOL_${tool}_SOURCES})
    set(variant_sources ${WORKBOOK_TOOL_${tool}_${VARIANT}_SOURCES})
    set(own_sources ${shared_sources} ${variant_sources})
    set(touched_own "")
    if(arg_MUTANT_DIR)
      # The tool's own sources may be touched too.
      _workbook_mutant_sources(own_sources "${own_sources}" "${arg_SOLUTION}" "${arg_MUTANT_DIR}" "${arg_TOUCHED}")
      set(touched_own ${own_sources})
      list(FILTER touched_own INCLUDE REGEX "^${arg_MUTANT_DIR}/")
    endif()
    # The sources every variant of the tool shares are compiled once for the
    # task, unless this mutant changed one of them.
    set(compiled_own ${own_sources})
    if(shared_sources AND NOT touched_own)
      _workbook_tool_shared_objects(${id}-${tool}-common ${tool} "${ex}" "${shared_sources}")
      set(compiled_own ${variant_sources} $<TARGET_OBJECTS:${id}-${tool}-common>)
    endif()
    # An IMPLEMENTATION is a fixed one (the true reference a student's tests
    # are checked against, a deliberately broken handler), never the
    # variant's; a tool with an Asio variant compiles the implementation
    # with its definitions; any other tool links the variant's objects.
    if(WORKBOOK_TOOL_${tool}_IMPLEMENTATION)
      set(tool_impl ${WORKBOOK_TOOL_${tool}_IMPLEMENTATION})
      _workbook_tool_shared_objects(${id}-${tool}-implementation ${tool} "${ex}" "${tool_impl}")
      set(tool_sources ${compiled_own} $<TARGET_OBJECTS:${id}-${tool}-implementation>)
    elseif(suffix)
      set(tool_impl ${impl})
      set(tool_sources ${compiled_own} ${tool_impl})
    else()
      set(tool_impl ${impl})
      set(tool_sources ${compiled_own} ${impl_objects})
    endif()
    if(arg_MUTANT_DIR)
      set(changed ${own_sources})
      if(NOT WORKBOOK_TOOL_${tool}_IMPLEMENTATION)
        list(APPEND changed ${impl})
      endif()
      list(FILTER changed INCLUDE REGEX "^${arg_MUTANT_DIR}/")
      if(NOT changed)
        string(APPEND tool_entries "tool\t${tool}\t$<TARGET_FILE:${id}-reference-${tool}>\n")
        list(APPEND tool_targets ${id}-reference-${tool})
        continue()
      endif()
    endif()
    add_executable(${t} ${tool_sources})
    set_target_properties(${t} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${out}" LINKER_LANGUAGE CXX)
    if(arg_EXCLUDE)
      set_target_properties(${t} PROPERTIES EXCLUDE_FROM_ALL TRUE)
    endif()
    if(WORKBOOK_TOOL_${tool}_CATCH_TESTS)
      _workbook_variant_info("${out}/${t}" ${id} "${variant}-${tool}" "${ex}" "${tool_impl}" "")
    endif()
    _workbook_tool_flags(${t} ${tool} "${ex}")
    if(variant STREQUAL "stub")
      # What the stub's tool compiles itself is the student's (the shared
      # sources and a fixed implementation are compiled apart).
      set_target_properties(${t} PROPERTIES CXX_COMPILER_LAUNCHER "${WORKBOOK_STUDENT_COMPILER_LAUNCHER}")
    endif()
    string(APPEND tool_entries "tool\t${tool}\t$<TARGET_FILE:${t}>\n")
    list(APPEND tool_targets ${t})
  endforeach()

  _workbook_variant_info("${out}/${exe}" ${id} ${variant} "${ex}" "${impl}" "${tool_entries}")
  add_executable(${exe} ${impl_objects} $<TARGET_OBJECTS:${arg_TESTS}>)
  set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${out}" LINKER_LANGUAGE CXX)
  if(arg_EXCLUDE)
    set_target_properties(${exe} PROPERTIES EXCLUDE_FROM_ALL TRUE)
  endif()
  target_link_libraries(${exe} PRIVATE workbook_catch_main workbook_harness Catch2::Catch2 ${WORKBOOK_TASK_LIBRARIES})

  # What grading a variant needs: the test binary and its tools. (Not
  # add_dependencies on the binary: Ninja would then wait for the tools
  # before compiling the binary's sources, instead of building side by side.)
  add_custom_target(${exe}-all)
  add_dependencies(${exe}-all ${exe} ${tool_targets})
endfunction()

# What a tool's sources are compiled with, whichever target holds them.
function(_workbook_tool_flags target tool ex)
  set(suffix "${WORKBOOK_TOOL_${tool}_SUFFIX}")
  target_include_directories(${target} PRIVATE "${ex}" ${WORKBOOK_TASK_INCLUDES})
  if(WORKBOOK_TOOL_${tool}_CATCH_TESTS)
    target_link_libraries(${target} PRIVATE workbook_catch_main workbook_harness Catch2::Catch2 workbook_warnings ${WORKBOOK_TASK_LIBRARIES})
  else()
    target_link_libraries(${target} PRIVATE workbook_asio${suffix} CLI11::CLI11 workbook_warnings)
  endif()
  target_precompile_headers(${target} REUSE_FROM workbook_pch${suffix})
endfunction()

# Objects a tool's variants share, compiled once for the task instead of
# once per variant and mutant: <id>-<tool>-common, the tool's SOURCES (a
# serve tool's main), and <id>-<tool>-implementation, its fixed
# IMPLEMENTATION (task 08's reference handler, a broken one), which is so
# never compiled with the student's files.
function(_workbook_tool_shared_objects target tool ex sources)
  if(NOT TARGET ${target})
    add_library(${target} OBJECT ${sources})
    _workbook_tool_flags(${target} ${tool} "${ex}")
  endif()
endfunction()

# The objects of a variant's implementation, in `out_var`: its sources
# compiled once into <exe>-impl, which the test binary and its tools link.
# A mutant compiles only the files it touches and takes the rest from
# <id>-reference-impl (a touched header touches every source: see
# _workbook_add_mutants).
function(_workbook_implementation_objects out_var id exe impl ex sol mout touched exclude)
  set(compiled ${impl})
  set(objects "")
  if(mout)
    list(FILTER compiled INCLUDE REGEX "^${mout}/")
    set(untouched_pattern "")
    foreach(rel IN LISTS touched)
      string(REPLACE "." "[.]" rel "${rel}")
      list(APPEND untouched_pattern "/${rel}[.]o")
    endforeach()
    list(JOIN untouched_pattern "|" untouched_pattern)
    set(objects "$<FILTER:$<TARGET_OBJECTS:${id}-reference-impl>,EXCLUDE,${untouched_pattern}>")
  endif()
  if(compiled)
    # The same include order and flags as the test TUs: one precompiled header.
    add_library(${exe}-impl OBJECT ${compiled})
    if(exclude)
      set_target_properties(${exe}-impl PROPERTIES EXCLUDE_FROM_ALL TRUE)
    endif()
    target_include_directories(${exe}-impl PRIVATE "${ex}" ${sol} ${WORKBOOK_TASK_INCLUDES})
    target_link_libraries(${exe}-impl PRIVATE workbook_harness Catch2::Catch2 workbook_warnings ${WORKBOOK_TASK_LIBRARIES})
    target_precompile_headers(${exe}-impl REUSE_FROM workbook_pch)
    if(exe STREQUAL "${id}-stub")
      set_target_properties(${exe}-impl PROPERTIES CXX_COMPILER_LAUNCHER "${WORKBOOK_STUDENT_COMPILER_LAUNCHER}")
    endif()
    list(APPEND objects "$<TARGET_OBJECTS:${exe}-impl>")
  endif()
  set(${out_var} ${objects} PARENT_SCOPE)
endfunction()

# `sources` with each file of `touched` (paths below `sol`) replaced by the
# mutant's copy under `mout`.
function(_workbook_mutant_sources out_var sources sol mout touched)
  set(result "")
  foreach(f IN LISTS sources)
    string(REPLACE "${sol}/" "" rel "${f}")
    if(NOT rel STREQUAL f AND rel IN_LIST touched)
      set(f "${mout}/${rel}")
    endif()
    list(APPEND result "${f}")
  endforeach()
  set(${out_var} "${result}" PARENT_SCOPE)
endfunction()

# Mutants: solutions/<id>/mutants/<name>/mutant.patch, a plausible student
# mistake written as a diff against the reference (paths below
# solutions/<id>/), headed by the lines the grader reads:
#
#   Criterion: AC3
#   Mistake: one line saying what the student got wrong
#   Caught by: tsan        (optional: only ThreadSanitizer can see it)
#
# Each becomes the variant mutant-<name>, outside `all`; <id>-mutants builds
# them all. Under the tsan preset, the tsan-caught ones are CTest tests that
# pass when ThreadSanitizer reports a race in the criterion's test cases.
function(_workbook_add_mutants id sol reference_sources common)
  file(GLOB patches CONFIGURE_DEPENDS "${sol}/mutants/*/mutant.patch")
  add_custom_target(${id}-mutants)
  if(NOT patches)
    return()
  endif()
  # ApplyMutant copies the whole solution directory (so a patched file's
  # sibling includes resolve to siblings), and patches the copy.
  file(GLOB_RECURSE solution_files CONFIGURE_DEPENDS "${sol}/*.cpp" "${sol}/*.hpp")
  list(FILTER solution_files EXCLUDE REGEX "^${sol}/mutants/")
  set(solution_relative ${solution_files})
  list(TRANSFORM solution_relative REPLACE "^${sol}/" "")

  cmake_parse_arguments(c "" "OUT" "" ${common})
  foreach(patch IN LISTS patches)
    get_filename_component(mdir "${patch}" DIRECTORY)
    get_filename_component(name "${mdir}" NAME)
    if(NOT name MATCHES "^[a-z0-9][a-z0-9-]*$")
      _workbook_task_problem(${id} "solutions/${id}/mutants/${name}/" "a mutant's name is lower-case words joined by '-'")
      continue()
    endif()
    # The files the diff changes ("+++ b/<path>"); a changed header may be
    # included anywhere, so then every source counts as changed.
    file(STRINGS "${patch}" plus_lines REGEX "^[+][+][+] ")
    set(touched "")
    foreach(line IN LISTS plus_lines)
      string(REGEX REPLACE "^[+][+][+] b/([^\t]*).*$" "\\1" rel "${line}")
      if(NOT rel IN_LIST solution_relative)
        _workbook_task_problem(${id} "solutions/${id}/mutants/${name}/mutant.patch"
                               "it changes '${rel}', which is not a .cpp/.hpp below solutions/${id}/ (paths are a/<file>, b/<file>)")
        set(touched "")
        break()
      endif()
      if(rel MATCHES "[.]hpp$")
        set(touched ${solution_relative})
        list(FILTER touched INCLUDE REGEX "[.]cpp$")
        break()
      endif()
      list(APPEND touched "${rel}")
    endforeach()
    if(NOT touched)
      continue()
    endif()

    set(mout "${c_OUT}/mutants/${name}")
    set(outputs ${touched})
    list(TRANSFORM outputs PREPEND "${mout}/")
    string(REPLACE ";" "|" files_arg "${solution_relative}")
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND "${CMAKE_COMMAND}" "-DSOLUTION=${sol}" "-DOUT=${mout}" "-DPATCH=${patch}"
              "-DFILES=${files_arg}" -P "${WORKBOOK_CMAKE_DIR}/ApplyMutant.cmake"
      DEPENDS ${solution_files} "${patch}" "${WORKBOOK_CMAKE_DIR}/ApplyMutant.cmake"
      COMMENT "Applying the mutant ${id}/${name}"
      VERBATIM)
    _workbook_mutant_sources(impl "${reference_sources}" "${sol}" "${mout}" "${touched}")

    # The header decides what is built and tested: a change to it reconfigures.
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${patch}")
    file(STRINGS "${patch}" caught_by REGEX "^Caught by:[ ]*tsan" LIMIT_COUNT 1)
    set(exclude EXCLUDE)
    if(caught_by AND WORKBOOK_SANITIZER STREQUAL "thread")
      set(exclude "")   # the tsan preset builds and runs these
    endif()
    _workbook_add_variant(${id} mutant-${name} IMPL ${impl} ${common} ${exclude}
                          SOLUTION "${sol}" MUTANT_DIR "${mout}" TOUCHED ${touched})
    add_dependencies(${id}-mutants ${id}-mutant-${name}-all)
    if(caught_by AND WORKBOOK_SANITIZER STREQUAL "thread")
      add_dependencies(sanitizer-suite ${id}-mutant-${name}-all)
    endif()

    if(caught_by AND WORKBOOK_SANITIZER STREQUAL "thread")
      file(STRINGS "${patch}" criterion REGEX "^Criterion:" LIMIT_COUNT 1)
      string(REGEX REPLACE "^Criterion:[ ]*([A-Za-z0-9]+).*" "\\1" criterion "${criterion}")
      add_test(NAME ${id}-mutant-${name} COMMAND ${id}-mutant-${name} "[${criterion}]")
      set_tests_properties(${id}-mutant-${name} PROPERTIES
        LABELS "tsan-mutant;${id}" TIMEOUT 120
        ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1"
        PASS_REGULAR_EXPRESSION "ThreadSanitizer: data race")
    endif()
  endforeach()
endfunction()

function(workbook_add_task id)
  set(ex "${PROJECT_SOURCE_DIR}/exercises/${id}")
  set(sol "${PROJECT_SOURCE_DIR}/solutions/${id}")
  file(GLOB stub_sources CONFIGURE_DEPENDS "${ex}/*.cpp")
  file(GLOB test_sources CONFIGURE_DEPENDS "${ex}/test/*.cpp")
  file(GLOB reference_sources CONFIGURE_DEPENDS "${sol}/*.cpp")

  # The rules of a sound task, and the fix for each, are the grader's
  # (grader/src/catalog.cpp); CMake only leaves out what it cannot build.
  # A student edition (edition.json, written by `grader export`) holds only
  # the references released to it: the others' tasks build their stub alone.
  set(has_reference TRUE)
  if(EXISTS "${PROJECT_SOURCE_DIR}/edition.json" AND NOT EXISTS "${sol}")
    set(has_reference FALSE)
  endif()
  if(NOT stub_sources OR NOT test_sources OR (has_reference AND NOT reference_sources))
    _workbook_task_problem(${id} "exercises/${id}/" "it lacks a stub, test or reference .cpp; `bin/grader check ${id}` says which and how to fix it")
    return()
  endif()

  set(WORKBOOK_TASK_TOOLS "")
  set(WORKBOOK_TASK_USES "")
  set(WORKBOOK_TASK_LIBRARIES "")
  set(WORKBOOK_TASK_PROBLEM "")
  if(EXISTS "${ex}/task.cmake")
    set(WORKBOOK_TASK_ID ${id})
    set(WORKBOOK_TASK_DIR "${ex}")
    set(WORKBOOK_SOLUTION_DIR "${sol}")
    include("${ex}/task.cmake")
  endif()
  if(WORKBOOK_TASK_PROBLEM)
    _workbook_task_problem(${id} "exercises/${id}/task.cmake" "${WORKBOOK_TASK_PROBLEM}")
    return()
  endif()

  # What the task builds on: read by the functions below (they see this scope).
  set(WORKBOOK_TASK_INCLUDES "")
  foreach(used IN LISTS WORKBOOK_TASK_USES)
    if(NOT used MATCHES "${WORKBOOK_TASK_PATTERN}" OR NOT IS_DIRECTORY "${PROJECT_SOURCE_DIR}/exercises/${used}")
      _workbook_task_problem(${id} "exercises/${id}/task.cmake" "workbook_task_uses(${used}): there is no exercises/${used}/")
      return()
    endif()
    file(GLOB used_stub CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/exercises/${used}/*.cpp")
    file(GLOB used_reference CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/solutions/${used}/*.cpp")
    list(APPEND stub_sources ${used_stub})
    list(APPEND reference_sources ${used_reference})
    # A student edition may hold this task's reference and not the other's.
    if(NOT used_reference)
      set(has_reference FALSE)
    endif()
    list(APPEND WORKBOOK_TASK_INCLUDES "${PROJECT_SOURCE_DIR}/exercises/${used}")
  endforeach()

  set(out "${PROJECT_BINARY_DIR}/tasks/${id}")

  add_library(${id}-tests OBJECT ${test_sources})
  target_include_directories(${id}-tests PRIVATE "${ex}" ${WORKBOOK_TASK_INCLUDES})
  target_link_libraries(${id}-tests PRIVATE workbook_harness Catch2::Catch2 workbook_warnings ${WORKBOOK_TASK_LIBRARIES})
  target_precompile_headers(${id}-tests REUSE_FROM workbook_pch)

  set(common TESTS ${id}-tests EX "${ex}" OUT "${out}" TOOLS ${WORKBOOK_TASK_TOOLS})
  _workbook_add_variant(${id} stub IMPL ${stub_sources} ${common})
  add_custom_target(${id})
  add_dependencies(${id} ${id}-stub-all)
  if(NOT has_reference)
    return()
  endif()
  _workbook_add_variant(${id} reference IMPL ${reference_sources} ${common})
  _workbook_add_mutants(${id} "${sol}" "${reference_sources}" "${common}")
  add_dependencies(${id} ${id}-reference-all)
  add_dependencies(sanitizer-suite ${id}-reference-all)

  add_test(NAME ${id}-reference COMMAND ${id}-reference)
  set_tests_properties(${id}-reference PROPERTIES LABELS "reference;${id}" TIMEOUT 120)
endfunction()
