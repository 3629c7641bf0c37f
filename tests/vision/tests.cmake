emloc_add_core_test(test_image_decode SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_image_decode.cpp LABELS unit
    TIMEOUT 120 CORE_LIBS emloc_vision)
emloc_add_core_test(test_image_reference SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_image_reference.cpp
    LABELS reference TIMEOUT 300 CORE_LIBS emloc_vision)
emloc_add_core_test(test_internvl_reference SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_internvl_reference.cpp
    LABELS reference TIMEOUT 600 CORE_LIBS emloc_vision)
emloc_add_core_test(test_internvl_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_internvl_config.cpp
    LABELS unit TIMEOUT 120 CORE_LIBS emloc_vision)
emloc_add_core_test(test_dataset_images SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dataset_images.cpp
    LABELS unit TIMEOUT 120 CORE_LIBS emloc_vision)
emloc_add_core_test(test_internvl_cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_internvl_cli.cpp
    LABELS cli reference TIMEOUT 600 CORE_LIBS emloc_vision)
emloc_add_core_test(test_internvl_stages SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_internvl_stages.cpp
    LABELS reference TIMEOUT 600 CORE_LIBS emloc_stages)
# A whole `emloc run` on a 150 M-parameter InternVL: minutes, so once, on the Release build.
emloc_add_core_test(test_internvl_run SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_internvl_run.cpp
    LABELS cli slow TIMEOUT 1800 CORE_LIBS emloc_stages)
