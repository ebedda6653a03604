# The layer rule (lib/layers.txt) checked by scripts/check_layers.py on every build, before any layer
# compiles (layers.cmake makes each layer depend on synack_layer_check); it runs again whenever a file
# under lib/ or the script changes. A violation fails the build, naming file:line, the include and the rule.
file(GLOB_RECURSE synack_lib_files CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/lib/*.h ${PROJECT_SOURCE_DIR}/lib/*.cc ${PROJECT_SOURCE_DIR}/lib/*.txt)
set(synack_layer_stamp ${PROJECT_BINARY_DIR}/layer_check.stamp)
add_custom_command(OUTPUT ${synack_layer_stamp}
  COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/check_layers.py ${PROJECT_SOURCE_DIR}
    --stamp ${synack_layer_stamp}
  DEPENDS ${PROJECT_SOURCE_DIR}/scripts/check_layers.py ${synack_lib_files}
  COMMENT "Checking the layer rule of lib/ (lib/layers.txt)" VERBATIM)
add_custom_target(synack_layer_check DEPENDS ${synack_layer_stamp})
