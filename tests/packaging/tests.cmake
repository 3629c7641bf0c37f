# The Debian package end to end (packaging/): built with cpack, installed with dpkg into a fresh root,
# checked (files, Depends, libraries, desktop and AppStream data) and run from there, then from a moved
# copy of the install. Needs dpkg (Debian), desktop-file-utils and appstream (setup.sh installs them).
if(EMLOC_BUILD_GUI)
    add_test(NAME test_package
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_package.sh ${CMAKE_BINARY_DIR} ${CMAKE_CPACK_COMMAND})
    set_tests_properties(test_package PROPERTIES LABELS "package;slow" TIMEOUT 1200)
endif()
