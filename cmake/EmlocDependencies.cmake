# Finds LibTorch (the one inside the project's virtual environment unless CMAKE_PREFIX_PATH names
# another), nlohmann_json, CLI11, PCRE2, ICU, CUDA (optional) and, for the GUI, Qt 6 + QCustomPlot.

set(EMLOC_PYTHON "${CMAKE_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH
    "Python of the project's virtual environment (LibTorch location and reference tests)")

if(NOT DEFINED Torch_DIR AND EXISTS "${EMLOC_PYTHON}")
    execute_process(COMMAND "${EMLOC_PYTHON}" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
                    OUTPUT_VARIABLE _emloc_torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE _emloc_torch_rc ERROR_QUIET)
    if(_emloc_torch_rc EQUAL 0)
        list(APPEND CMAKE_PREFIX_PATH "${_emloc_torch_prefix}")
    endif()
endif()

find_package(CUDAToolkit QUIET)
if(EMLOC_WITH_CUDA STREQUAL "AUTO")
    set(EMLOC_CUDA_ENABLED ${CUDAToolkit_FOUND})
elseif(EMLOC_WITH_CUDA)
    if(NOT CUDAToolkit_FOUND)
        message(FATAL_ERROR "EMLOC_WITH_CUDA=ON but no CUDA toolkit was found; install it or pass -DEMLOC_WITH_CUDA=OFF")
    endif()
    set(EMLOC_CUDA_ENABLED ON)
else()
    set(EMLOC_CUDA_ENABLED OFF)
endif()

find_package(Torch REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
find_package(ICU REQUIRED COMPONENTS uc)
# Image decoders of the vision path (JPEG, PNG, WebP).
find_package(PNG REQUIRED)
pkg_check_modules(TURBOJPEG REQUIRED IMPORTED_TARGET libturbojpeg)
pkg_check_modules(WEBP REQUIRED IMPORTED_TARGET libwebp)
find_package(Threads REQUIRED)

if(EMLOC_BUILD_GUI)
    find_package(Qt6 6.4 REQUIRED COMPONENTS Core Widgets Test PrintSupport LinguistTools)
    qt_standard_project_setup()
elseif(EMLOC_BUILD_TESTS)
    # Core's suites need no Qt; the launcher's Qt Test suite is built where Qt is there.
    find_package(Qt6 6.4 QUIET COMPONENTS Core Test)
    if(Qt6_FOUND)
        qt_standard_project_setup()
    endif()
endif()
if(EMLOC_BUILD_GUI)
    find_package(QCustomPlotQt6 REQUIRED)
endif()
message(STATUS "EMLoC: LibTorch ${Torch_VERSION}, CUDA code paths ${EMLOC_CUDA_ENABLED}")
