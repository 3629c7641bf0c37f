# Suites for stage 2: LoRA, the training loop, checkpoints, layer drop and `emloc train`.
emloc_add_core_test(test_stage2_lora SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage2_lora.cpp LABELS unit
    CORE_LIBS emloc_stages)
emloc_add_core_test(test_stage2_training SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage2_training.cpp LABELS unit
    TIMEOUT 900 CORE_LIBS emloc_stages)
emloc_add_core_test(test_stage2_peft_reference SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage2_peft_reference.cpp
    LABELS reference TIMEOUT 900 CORE_LIBS emloc_stages)
emloc_add_core_test(test_stage2_smollm SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage2_smollm.cpp
    LABELS reference slow TIMEOUT 1800 CORE_LIBS emloc_stages)
emloc_add_core_test(test_stage2_kill SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stage2_kill.cpp LABELS cli slow
    TIMEOUT 900 CORE_LIBS emloc_stages)
