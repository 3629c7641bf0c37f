# Suites for core/src/io: atomic writes and config.json.
emloc_add_core_test(test_atomic_file SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_atomic_file.cpp LABELS unit CORE_LIBS emloc_io)
emloc_add_core_test(test_model_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_model_config.cpp LABELS reference
                    CORE_LIBS emloc_io)
