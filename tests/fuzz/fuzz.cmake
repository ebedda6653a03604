# Fuzz targets (tests/fuzz), included by tests/CMakeLists.txt so that its TIMEOUT check covers them.
# Every build: each target's source with tests/fuzz/replay_main.cc as <target>_replay, and a test that
# replays the seed corpus and every regression input. With SYNACK_FUZZ (clang): the libFuzzer binaries
# themselves (scripts/fuzz.sh builds and runs them). All land in <build>/fuzz/.
set(SYNACK_FUZZ_TARGETS fuzz_net_parsers fuzz_tcp_header fuzz_engine)

add_library(synack_fuzz_env STATIC fuzz/fuzz_env.cc)
target_link_libraries(synack_fuzz_env PUBLIC synack)

foreach(t IN LISTS SYNACK_FUZZ_TARGETS)
  add_executable(${t}_replay fuzz/${t}.cc fuzz/replay_main.cc)
  target_link_libraries(${t}_replay PRIVATE synack_fuzz_env)
  set_target_properties(${t}_replay PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  add_test(NAME fuzz_replay_${t}
    COMMAND ${t}_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${t} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regressions/${t})
  set_tests_properties(fuzz_replay_${t} PROPERTIES TIMEOUT 120 LABELS fuzz)
  if(SYNACK_FUZZ)
    add_executable(${t} fuzz/${t}.cc)
    target_link_libraries(${t} PRIVATE synack_fuzz_env)
    target_link_options(${t} PRIVATE -fsanitize=fuzzer)
    set_target_properties(${t} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  endif()
endforeach()

# Regenerates the seed corpus: <build>/fuzz/fuzz_make_corpus tests/fuzz/corpus
add_executable(fuzz_make_corpus fuzz/make_corpus.cc)
target_link_libraries(fuzz_make_corpus PRIVATE synack)
set_target_properties(fuzz_make_corpus PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
