# Suites for core/src/model: the decoder, generation and the model commands.
emloc_add_core_test(test_model_decoder SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_model_decoder.cpp LABELS unit
    CORE_LIBS emloc_model)
emloc_add_core_test(test_model_reference SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_model_reference.cpp
    LABELS reference TIMEOUT 1200 CORE_LIBS emloc_model)
emloc_add_core_test(test_model_smollm SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_model_smollm.cpp
    LABELS reference slow TIMEOUT 900 CORE_LIBS emloc_model)
emloc_add_core_test(test_model_cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_model_cli.cpp LABELS cli slow TIMEOUT 900
    CORE_LIBS emloc_model emloc_math)
