emloc_add_core_test(test_memory_plan SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_memory_plan.cpp LABELS unit
                    CORE_LIBS emloc_plan)
emloc_add_core_test(test_model_catalog SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_model_catalog.cpp LABELS unit)
emloc_add_core_test(test_plan_cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_plan_cli.cpp LABELS cli)
