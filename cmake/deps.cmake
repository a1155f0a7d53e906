# Every dependency comes from Debian. A missing one stops configure and names
# the package to install.
find_package(PkgConfig)

function(h2b_require_pkg var module apt)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(${var} IMPORTED_TARGET GLOBAL ${module})
  endif()
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "${module} not found: apt-get install ${apt}")
  endif()
endfunction()

h2b_require_pkg(LIBEVENT libevent_core libevent-dev)
h2b_require_pkg(LIBEVENT_EXTRA libevent_extra libevent-dev) # evhttp, demo origin only
h2b_require_pkg(LIBYAML yaml-0.1 libyaml-dev)
h2b_require_pkg(CARES libcares libc-ares-dev) # backend DNS names (proxy/backend/resolver.c)
h2b_require_pkg(CMOCKA cmocka libcmocka-dev)
find_package(Threads REQUIRED)

# BoringSSL: Debian ships it for Android tools, without a pkg-config file.
if(H2B_BORINGSSL_ROOT)
  set(_bssl_inc "${H2B_BORINGSSL_ROOT}/include")
  set(_bssl_hint "${H2B_BORINGSSL_ROOT}/lib" "${H2B_BORINGSSL_ROOT}/build"
                 "${H2B_BORINGSSL_ROOT}/build/ssl" "${H2B_BORINGSSL_ROOT}/build/crypto")
  set(_bssl_apt "a BoringSSL build under H2B_BORINGSSL_ROOT=${H2B_BORINGSSL_ROOT}")
else()
  set(_bssl_inc /usr/include/android)
  set(_bssl_hint /usr/lib/x86_64-linux-gnu/android)
  set(_bssl_apt "apt-get install android-libboringssl-dev")
endif()
find_path(BSSL_INCLUDE_DIR openssl/ssl.h PATHS ${_bssl_inc} NO_DEFAULT_PATH)
find_library(BSSL_SSL_LIB ssl PATHS ${_bssl_hint} NO_DEFAULT_PATH)
find_library(BSSL_CRYPTO_LIB crypto PATHS ${_bssl_hint} NO_DEFAULT_PATH)
if(NOT BSSL_INCLUDE_DIR OR NOT BSSL_SSL_LIB OR NOT BSSL_CRYPTO_LIB)
  message(FATAL_ERROR "BoringSSL not found: ${_bssl_apt}")
endif()
get_filename_component(BSSL_LIB_DIR "${BSSL_SSL_LIB}" DIRECTORY)
add_library(boringssl INTERFACE)
target_include_directories(boringssl SYSTEM INTERFACE ${BSSL_INCLUDE_DIR})
target_link_libraries(boringssl INTERFACE ${BSSL_SSL_LIB} ${BSSL_CRYPTO_LIB})
# No pkg-config, not on the loader path: record where it lives in the binary.
target_link_options(boringssl INTERFACE "-Wl,-rpath,${BSSL_LIB_DIR}")

# Test-only oracles and bench-only peers (optional at configure time; the
# tests that need them say so and are skipped when absent).
if(PKG_CONFIG_FOUND)
  pkg_check_modules(NGHTTP2 IMPORTED_TARGET GLOBAL libnghttp2)
endif()
find_library(HTTP_PARSER_LIB http_parser)
find_path(HTTP_PARSER_INCLUDE http_parser.h)

# A module library from its globbed sources. A module that has no sources yet
# still gets a (empty) target so the link lines above it stay valid.
macro(h2b_library name srcvar)
  if(NOT ${srcvar})
    set(_empty ${CMAKE_CURRENT_BINARY_DIR}/${name}_empty.c)
    file(WRITE ${_empty} "/* ${name} has no sources yet */\nextern int h2b_${name}_empty_;\n")
    set(${srcvar} ${_empty})
  endif()
  add_library(${name} STATIC ${${srcvar}})
endmacro()
