# ctl_latency: round trips of sluiced's control socket (add-drop + del, one
# request at a time). Only libc; run by ctl_latency.sh, not by ctest.
# Included from tests/bench/CMakeLists.txt.
add_executable(ctl_latency ${CMAKE_CURRENT_LIST_DIR}/ctl_latency.c)
