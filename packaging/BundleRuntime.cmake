# Install-time script (packaging/CMakeLists.txt includes it from install(CODE)): copies every shared
# library the programs load from outside the system folders (LibTorch and the CUDA libraries of the torch
# wheel, cuSOLVER of the CUDA toolkit) into one private folder. The programs' RPATH points there;
# libtorch's own RPATH ends in $ORIGIN and NVIDIA's libraries have RUNPATH $ORIGIN, so one flat folder
# resolves all of them. System libraries come from Debian packages (the package's Depends).
#
# In: EMLOC_BUNDLE_PROGRAMS, EMLOC_BUNDLE_LIBRARIES (lazily loaded extras), EMLOC_BUNDLE_DESTINATION.
cmake_policy(PUSH)
cmake_policy(VERSION 3.25) # cmake_install.cmake runs with old policies; IN_LIST needs CMP0057
file(GET_RUNTIME_DEPENDENCIES
    EXECUTABLES ${EMLOC_BUNDLE_PROGRAMS}
    LIBRARIES ${EMLOC_BUNDLE_LIBRARIES}
    RESOLVED_DEPENDENCIES_VAR _resolved
    UNRESOLVED_DEPENDENCIES_VAR _unresolved
    CONFLICTING_DEPENDENCIES_PREFIX _conflict
    PRE_EXCLUDE_REGEXES "^ld-linux" "^libc\\.so" "^libm\\.so" "^libdl\\.so" "^libpthread\\.so" "^librt\\.so"
                        "^libstdc\\+\\+\\.so" "^libgcc_s\\.so"
    POST_EXCLUDE_REGEXES "^/lib/" "^/usr/lib/")
if(_unresolved)
    message(FATAL_ERROR "Cannot bundle the runtime: these libraries were not found: ${_unresolved}")
endif()
# The same soname from two places (the CUDA toolkit and the wheel both carry cuBLAS): the first wins, as
# one folder can hold one of them.
foreach(_name ${_conflict_FILENAMES})
    list(GET _conflict_${_name} 0 _chosen)
    list(APPEND _resolved ${_chosen})
endforeach()
set(_bundled "")
foreach(_library ${_resolved} ${EMLOC_BUNDLE_LIBRARIES})
    get_filename_component(_name "${_library}" NAME)
    if(_name IN_LIST _bundled)
        continue()
    endif()
    list(APPEND _bundled ${_name})
    get_filename_component(_real "${_library}" REALPATH)
    # Under the soname the loader asks for, as a file (not the versioned symlink chain).
    file(INSTALL "${_real}" DESTINATION "${EMLOC_BUNDLE_DESTINATION}" RENAME "${_name}"
         FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()
list(LENGTH _bundled _count)
message(STATUS "Bundled ${_count} runtime libraries into ${EMLOC_BUNDLE_DESTINATION}")
cmake_policy(POP)
