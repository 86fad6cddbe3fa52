# The analysis half of onsight-conform: timeline (pcap + journals), checks, scenarios.
# Included by conformance/CMakeLists.txt. Public header: include/conform/analysis.h.
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap>=1.10)

file(GLOB conform_analysis_src CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/src/analysis/*.c)
add_library(conform-analysis STATIC ${conform_analysis_src})
target_include_directories(conform-analysis PUBLIC ${CMAKE_CURRENT_LIST_DIR}/include
                           PRIVATE ${CMAKE_CURRENT_LIST_DIR}/src/analysis)
# labplan (mock-firewall/src/hosts.c): the lab address plan, the one table shared with the lab.
target_link_libraries(conform-analysis PUBLIC onsight-common labplan PkgConfig::JANSSON
                      PkgConfig::PCAP)
if(ONSIGHT_FUZZ)
  # coverage for the harnesses: the decoders live in this library, not in the harness
  target_compile_options(conform-analysis PRIVATE -fsanitize=fuzzer-no-link)
endif()

# A small driver with the `analyze` command line, for the golden-capture tests and the
# benchmark (the shipped binary is onsight-conform).
add_executable(conform-analyze ${CMAKE_CURRENT_LIST_DIR}/tests/analyze_driver.c)
target_link_libraries(conform-analyze PRIVATE conform-analysis)

file(GLOB conform_analysis_tests CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_LIST_DIR}/tests/test_analysis_*.c)
foreach(src ${conform_analysis_tests})
  get_filename_component(t ${src} NAME_WE)
  onsight_add_check_test(${t} SOURCES ${src} LIBS conform-analysis onsight-testutil)
  target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR}/src/analysis)
endforeach()

# Golden captures: every captures/<case>/ is judged again and compared with its verdicts.
file(GLOB conform_golden CONFIGURE_DEPENDS LIST_DIRECTORIES true ${PROJECT_SOURCE_DIR}/captures/*)
foreach(dir ${conform_golden})
  if(IS_DIRECTORY ${dir} AND EXISTS ${dir}/case.json)
    get_filename_component(c ${dir} NAME)
    string(REPLACE "-" "_" cid ${c})
    add_test(NAME test_analysis_golden_${cid}
             COMMAND ${CMAKE_CURRENT_LIST_DIR}/tests/golden-check.sh
                     $<TARGET_FILE:conform-analyze> ${dir})
    set_tests_properties(test_analysis_golden_${cid} PROPERTIES TIMEOUT 60)
  endif()
endforeach()

foreach(f pcap scenario)
  onsight_add_fuzzer(${f} SOURCES ${CMAKE_CURRENT_LIST_DIR}/tests/fuzz_${f}.c
                     LIBS conform-analysis
                     CORPUS ${CMAKE_CURRENT_LIST_DIR}/tests/corpus/${f})
endforeach()
