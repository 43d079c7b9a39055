# find_package(artr) for the header-only artr.h: the INTERFACE target artr::artr adds the
# include directory (and libm on Unix). Installed by `make install` and by CMake's install.
get_filename_component(_artr_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET artr::artr)
  add_library(artr::artr INTERFACE IMPORTED)
  set_target_properties(artr::artr PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_artr_prefix}/include")
  if(UNIX)
    set_property(TARGET artr::artr APPEND PROPERTY INTERFACE_LINK_LIBRARIES m)
  endif()
endif()
set(artr_INCLUDE_DIR "${_artr_prefix}/include")
unset(_artr_prefix)
