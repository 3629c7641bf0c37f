# The desktop application's suites (label gui, QT_QPA_PLATFORM=offscreen) and the screenshot tool.
# They need the GUI library: nothing here when EMLOC_BUILD_GUI is OFF.
if(NOT TARGET emloc_ui)
    return()
endif()

emloc_add_test(test_ui_main_window SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ui_main_window.cpp LABELS gui
    LIBS emloc_ui TIMEOUT 120 QT)
emloc_add_test(test_ui_job_worker SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ui_job_worker.cpp LABELS gui
    LIBS emloc_ui TIMEOUT 180 QT)
emloc_add_test(test_ui_background SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ui_background.cpp LABELS gui
    LIBS emloc_ui TIMEOUT 120 QT)
emloc_add_test(test_ui_project SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ui_project.cpp LABELS gui
    LIBS emloc_ui TIMEOUT 120 QT)
emloc_add_test(test_ui_run_results SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ui_run_results.cpp LABELS gui
    LIBS emloc_ui TIMEOUT 120 QT)

# Renders every page to PNG for docs/screenshots:
#   xvfb-run -s "-screen 0 1400x900x24" <build>/tests/emloc_ui_screenshots docs/screenshots
add_executable(emloc_ui_screenshots ${CMAKE_CURRENT_LIST_DIR}/ui_screenshots.cpp)
target_link_libraries(emloc_ui_screenshots PRIVATE emloc_gui_engine emloc_test_support)
target_precompile_headers(emloc_ui_screenshots REUSE_FROM emloc_pch)

# The window with the real engine behind Run and Export (app/gui/engine_jobs.cpp) on a small model.
emloc_add_test(test_ui_engine_run SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ui_engine_run.cpp
    LABELS gui reference LIBS emloc_gui_engine TIMEOUT 900 QT)
target_precompile_headers(test_ui_engine_run REUSE_FROM emloc_pch)

# A project as the engine's run configuration and back (app/gui/engine_project.cpp): the demo is
# demo-run.json, every setting of a run survives the Studio, the engine names a bad one.
emloc_add_test(test_ui_engine_project SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ui_engine_project.cpp
    LABELS gui LIBS emloc_gui_engine TIMEOUT 120 QT)
target_precompile_headers(test_ui_engine_project REUSE_FROM emloc_pch)

# The Model and Data pages on the engine's readers (app/gui/engine_inspect.cpp): they accept and refuse
# what `emloc data inspect` and `emloc info` do.
emloc_add_test(test_ui_engine_inspect SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ui_engine_inspect.cpp
    LABELS gui cli LIBS emloc_gui_engine TIMEOUT 300 QT)
target_precompile_headers(test_ui_engine_inspect REUSE_FROM emloc_pch)
