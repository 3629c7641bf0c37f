# GGUF reading, writing and conversion (core/src/io/gguf*.cpp).
# The reader/writer suites link the io area alone: they build and run whatever state the other areas are in.
foreach(_gguf_test test_gguf_file test_gguf_reference)
    emloc_add_test(${_gguf_test} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${_gguf_test}.cpp LABELS unit LIBS emloc_io)
    emloc_reuse_pch(${_gguf_test})
endforeach()
set_tests_properties(test_gguf_file PROPERTIES TIMEOUT 120)
set_tests_properties(test_gguf_reference PROPERTIES LABELS reference TIMEOUT 600)
emloc_add_core_test(test_gguf_convert SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_gguf_convert.cpp
    LABELS reference cli slow TIMEOUT 1800)
foreach(_gguf_test test_gguf_file test_gguf_reference test_gguf_convert)
    # The suites also check internal pieces (name mapping, q/k permutation, tokenizer rebuild).
    target_include_directories(${_gguf_test} PRIVATE ${CMAKE_SOURCE_DIR}/core/src/io)
endforeach()
