# `emloc` on bad input: missing, misplaced, truncated and corrupt files, NaN weights, broken datasets,
# impossible budgets, unwritable destinations and a full disk, for every command that reads or writes files.
emloc_add_core_test(test_bad_inputs SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_bad_inputs.cpp LABELS cli TIMEOUT 300 QT)
