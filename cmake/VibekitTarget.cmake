# Compile settings shared by every target of the project (never through CMAKE_CXX_FLAGS).
function(vibekit_configure_target target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  get_target_property(type ${target} TYPE)
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${target}
      PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
      PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_compile_options(${target} PRIVATE
      -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
      -Wno-missing-field-initializers)
    if(VIBEKIT_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(VIBEKIT_SANITIZE)
      target_compile_options(${target} PRIVATE -fsanitize=${VIBEKIT_SANITIZE} -fno-omit-frame-pointer
        -fno-sanitize-recover=all)
      target_link_options(${target} PUBLIC -fsanitize=${VIBEKIT_SANITIZE})
    endif()
  endif()
endfunction()

# vibekit_precompile_headers(target header...): precompile these (third-party, stable) headers
# for target when VIBEKIT_PCH is on. vibekit_reuse_precompiled_headers(target from): use the
# precompiled header of `from` (same compiler flags; only -D values differ, which GCC accepts for
# macros the header does not use, and otherwise it falls back to parsing with -Winvalid-pch).
function(vibekit_precompile_headers target)
  if(VIBEKIT_PCH)
    target_precompile_headers(${target} PRIVATE ${ARGN})
  endif()
endfunction()

function(vibekit_reuse_precompiled_headers target from)
  if(VIBEKIT_PCH)
    target_precompile_headers(${target} REUSE_FROM ${from})
  endif()
endfunction()
