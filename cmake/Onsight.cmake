# Helpers shared by every component.

# onsight_add_check_test(NAME SOURCES src... LIBS lib... [TIMEOUT s] [LABELS l...])
# Builds a `check` runner and registers it with CTest.
function(onsight_add_check_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CHECK)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "CK_DEFAULT_TIMEOUT=60;ONSIGHT_BUILD_DIR=${PROJECT_BINARY_DIR}")
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()

# onsight_add_fuzzer(NAME SOURCES src... LIBS lib... CORPUS dir)
# With ONSIGHT_FUZZ=ON (clang), builds a libFuzzer harness and registers a CTest
# `fuzz_NAME` that runs it for ONSIGHT_FUZZ_SECONDS over a copy of the seed corpus.
function(onsight_add_fuzzer name)
  cmake_parse_arguments(F "" "CORPUS" "SOURCES;LIBS" ${ARGN})
  if(NOT ONSIGHT_FUZZ)
    return()
  endif()
  add_executable(fuzz_${name} ${F_SOURCES})
  target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_${name} PRIVATE ${F_LIBS})
  add_test(NAME fuzz_${name}
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/run-fuzzer $<TARGET_FILE:fuzz_${name}>
            ${F_CORPUS} ${ONSIGHT_FUZZ_SECONDS})
  math(EXPR tmo "${ONSIGHT_FUZZ_SECONDS} + 60")
  set_tests_properties(fuzz_${name} PROPERTIES TIMEOUT ${tmo} LABELS fuzz)
endfunction()
