# Stage 3: LoRA correction, evaluation and exports (core/src/stages/{correct,evaluat,export}*.cpp,
# core/src/io/{peft_adapter,gguf_lora,staging_folder}.cpp).
emloc_add_core_test(test_stage3_correct SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage3_correct.cpp LABELS unit
    TIMEOUT 300)
emloc_add_core_test(test_stage3_evaluate SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage3_evaluate.cpp LABELS unit
    TIMEOUT 300)
emloc_add_core_test(test_stage3_cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage3_cli.cpp LABELS cli TIMEOUT 300)
emloc_add_core_test(test_stage3_peft_reference SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage3_peft_reference.cpp
    LABELS reference TIMEOUT 600)
emloc_add_core_test(test_stage3_gguf_reference SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage3_gguf_reference.cpp
    LABELS reference slow TIMEOUT 900)
