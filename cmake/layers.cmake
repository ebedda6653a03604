# lib/ as one OBJECT library per layer (synack_base, synack_net, ...: the layers of lib/layers.txt, each
# from its lib/<layer>/sources.txt), all linked into the one installed library, synack. A layer of headers
# only (no sources) has no target. Each layer target depends on synack_layer_check (check_layers.cmake), so
# nothing compiles while an include breaks the layer rule.
set(SYNACK_LIB_DEPS PkgConfig::DPDK rte_net_ring
  absl::status absl::statusor absl::strings absl::str_format absl::flat_hash_map absl::span absl::function_ref
  Threads::Threads)

# Reads <dir>/sources.txt (one .cc per line, relative to <dir>) into <var> as paths from the source root.
function(synack_read_sources var dir)
  set(list ${PROJECT_SOURCE_DIR}/${dir}/sources.txt)
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${list})
  file(STRINGS ${list} sources REGEX "[^ \t]")
  list(TRANSFORM sources STRIP)
  list(TRANSFORM sources PREPEND ${dir}/)
  set(${var} ${sources} PARENT_SCOPE)
endfunction()

set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/lib/layers.txt)
file(STRINGS ${PROJECT_SOURCE_DIR}/lib/layers.txt synack_layer_lines REGEX "^[a-z]")
set(SYNACK_LAYER_OBJECTS)
foreach(line IN LISTS synack_layer_lines)
  string(REGEX MATCH "^[a-z_]+" layer "${line}")
  synack_read_sources(sources lib/${layer})
  if(NOT sources)
    continue()
  endif()
  add_library(synack_${layer} OBJECT ${sources})
  target_include_directories(synack_${layer} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/include
    ${PROJECT_BINARY_DIR}/generated)
  target_link_libraries(synack_${layer} PUBLIC ${SYNACK_LIB_DEPS})
  if(BUILD_SHARED_LIBS)
    set_target_properties(synack_${layer} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  endif()
  add_dependencies(synack_${layer} synack_layer_check)
  list(APPEND SYNACK_LAYER_OBJECTS $<TARGET_OBJECTS:synack_${layer}>)
endforeach()
