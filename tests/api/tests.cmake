# Suites for core/src/api and core/src/util: jobs (runJob, engineJob), memory readings, the CPU count.
emloc_add_core_test(test_job SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_job.cpp LABELS unit CORE_LIBS emloc_util)
emloc_add_core_test(test_cpu_count SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cpu_count.cpp LABELS unit CORE_LIBS emloc_util)
emloc_add_core_test(test_process_launch SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_process_launch.cpp LABELS unit
    CORE_LIBS emloc_util)
