#!/bin/sh
# Install the library into a scratch prefix, then build and run a consumer
# against it twice: through pkg-config and through find_package(vcpufault).
set -eu
build=$1
CC=${2:-cc}
FLAGS=${3:-}
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/pkgconfig | head -n1)
export PKG_CONFIG_PATH="$libdir"
# FLAGS: the sanitizer flags the library was built with, which its consumers then need too.
# shellcheck disable=SC2086
"$CC" $FLAGS "$src/consumer.c" -o "$tmp/consumer-pc" $(pkg-config --cflags vcpufault) $(pkg-config --libs vcpufault)
LD_LIBRARY_PATH="$(dirname "$libdir")" "$tmp/consumer-pc"
cmake -S "$src" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_C_COMPILER="$CC" \
    -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_EXE_LINKER_FLAGS="$FLAGS" >/dev/null
cmake --build "$tmp/cmake" >/dev/null
"$tmp/cmake/consumer"
echo "install: pkg-config and find_package consumers passed"
