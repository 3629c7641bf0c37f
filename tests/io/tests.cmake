# Suites for core/src/io: atomic writes, safetensors, config.json, model folders.
emloc_add_core_test(test_atomic_file SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_atomic_file.cpp LABELS unit)
emloc_add_core_test(test_safetensors SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_safetensors.cpp LABELS unit)
emloc_add_core_test(test_safetensors_reference
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_safetensors_reference.cpp LABELS reference)
emloc_add_core_test(test_model_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_model_config.cpp LABELS reference)
emloc_add_core_test(test_model_files SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_model_files.cpp LABELS reference)
emloc_add_core_test(test_sentencepiece_reference
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sentencepiece_reference.cpp LABELS reference)
