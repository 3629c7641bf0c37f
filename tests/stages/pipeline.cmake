# Suites for the pipeline (`emloc run`): the configuration file's checks, and a whole run on a small model
# that then reuses what it made.
emloc_add_core_test(test_pipeline_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pipeline_config.cpp LABELS unit)
emloc_add_core_test(test_pipeline_run SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pipeline_run.cpp
    LABELS cli reference TIMEOUT 900)
emloc_add_core_test(test_run_folder SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_run_folder.cpp LABELS unit)
# Several processes (Gloo over the loopback address): runs the CLI, so on the Release build.
emloc_add_core_test(test_pipeline_distributed SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pipeline_distributed.cpp
    LABELS cli TIMEOUT 1200)
