emloc_add_core_test(test_activation_svd SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_activation_svd.cpp LABELS unit CORE_LIBS emloc_math)
emloc_add_core_test(test_lora_correction SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_lora_correction.cpp LABELS unit CORE_LIBS emloc_math)
emloc_add_core_test(test_cusolver SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cusolver.cpp LABELS gpu CORE_LIBS emloc_math)
