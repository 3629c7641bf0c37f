# Suites for stage 1 (core/src/stages/calibration*, emulator*): the emulator against method.md in float64,
# the CLI's memory claims on a model of realistic proportions, and the demo model.
emloc_add_core_test(test_stage1_emulator SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage1_emulator.cpp LABELS unit
    TIMEOUT 300)
emloc_add_core_test(test_stage1_cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage1_cli.cpp
    LABELS cli reference slow memory TIMEOUT 600)
emloc_add_core_test(test_stage1_smollm SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage1_smollm.cpp
    LABELS cli slow TIMEOUT 1800)
