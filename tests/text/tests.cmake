# Suites for the tokenizer (core/src/text/tokenizer*.cpp, unicode*.cpp). They link only the text area
# (and what it needs), so they build while other areas of the engine are mid-change.
function(emloc_add_tokenizer_test name)
    emloc_add_test(${name} ${ARGN} LIBS emloc_text)
    emloc_reuse_pch(${name})
endfunction()

emloc_add_tokenizer_test(test_tokenizer SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tokenizer.cpp LABELS unit TIMEOUT 60)
emloc_add_tokenizer_test(test_tokenizer_reference SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tokenizer_reference.cpp
    LABELS reference TIMEOUT 900)
