# Suites for core/src/text datasets, chat templates and the Jinja engine, and `emloc data`.
# The unit and template suites link only the text area (and what it needs), so they build while other
# areas of the engine are mid-change.
function(emloc_add_text_test name)
    emloc_add_test(${name} ${ARGN} LIBS emloc_text)
    emloc_reuse_pch(${name})
endfunction()

emloc_add_text_test(test_jinja SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_jinja.cpp LABELS unit TIMEOUT 60)
emloc_add_text_test(test_dataset_reader SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dataset_reader.cpp LABELS unit memory
    TIMEOUT 120)
emloc_add_text_test(test_training_examples SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_training_examples.cpp
    LABELS unit TIMEOUT 120)
emloc_add_text_test(test_chat_template_reference SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_chat_template_reference.cpp
    LABELS reference TIMEOUT 300)
emloc_add_text_test(test_dataset_masking_reference
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dataset_masking_reference.cpp LABELS reference TIMEOUT 300)
# End to end through the `emloc` binary with the demo model (needs the whole engine).
emloc_add_core_test(test_data_cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_data_cli.cpp LABELS cli TIMEOUT 300)
