# Makes one mutant's sources: copies the reference files a mutant may touch
# into OUT (keeping their paths below solutions/<task>/) and applies the
# mutant's patch there. Run at build time by workbook_add_task:
#
#   cmake -DSOLUTION=<solutions/task-NN> -DOUT=<dir> -DPATCH=<mutant.patch>
#         -DFILES=<paths relative to SOLUTION, |-separated> -P ApplyMutant.cmake
#
# A patch that no longer applies (the reference changed under it) stops the
# build with a message naming the patch and what to do.
foreach(v SOLUTION OUT PATCH FILES)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "ApplyMutant.cmake: -D${v}=... is required")
  endif()
endforeach()

find_program(PATCH_PROGRAM patch)
if(NOT PATCH_PROGRAM)
  message(FATAL_ERROR "ApplyMutant.cmake: the 'patch' program is missing (Debian package 'patch'; it is in cmake/debian-packages.txt)")
endif()

string(REPLACE "|" ";" FILES "${FILES}")
file(REMOVE_RECURSE "${OUT}")
foreach(f IN LISTS FILES)
  get_filename_component(dir "${OUT}/${f}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  file(COPY_FILE "${SOLUTION}/${f}" "${OUT}/${f}")
endforeach()

execute_process(
  COMMAND "${PATCH_PROGRAM}" --batch --forward --silent --no-backup-if-mismatch -p1 -d "${OUT}" -i "${PATCH}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  file(REMOVE_RECURSE "${OUT}")
  message(FATAL_ERROR "${PATCH}: does not apply to the reference any more:\n${out}\n"
          "Fix: carry the mistake over to the current reference with "
          "`bin/make-mutant --rebase <task> <mutant> <the commit it was written against>`, "
          "or make it again in a copy of the reference and run bin/make-mutant.")
endif()
