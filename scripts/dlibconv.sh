#!/usr/bin/env bash
# dlibconv.sh builds tools/dlibconv (C++ against the installed dlib) into the
# build cache ($FACEGATE_BUILD, default ./build) unless an up-to-date binary is
# there, and prints the binary's path. Up to date means: same source, same
# flags, same dlib version and same compiler.
set -euo pipefail
build=${FACEGATE_BUILD:-}
case $build in "" | /*) ;; *) build=$PWD/$build ;; esac
cd "$(dirname "$0")/.."
build=${build:-$PWD/build}
src=tools/dlibconv/src/dlibconv.cpp
out=$build/dlibconv

if ! dlib=$(pkg-config --cflags --libs dlib-1 2>/dev/null); then
	echo "dlibconv.sh: pkg-config finds no dlib-1: run scripts/deps.sh (make setup)" >&2
	exit 1
fi
flags=(-std=c++17 -O2 -Wall)
stamp=$({
	sha256sum "$src"
	echo "${flags[*]} $dlib"
	pkg-config --modversion dlib-1
	g++ --version | head -n1
} | sha256sum | cut -d' ' -f1)

if [ -x "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$out"
	exit 0
fi
mkdir -p "$build"
echo "dlibconv.sh: building $out (about a minute)" >&2
# shellcheck disable=SC2086 # pkg-config output is a word list
g++ "${flags[@]}" -o "$out.$$" "$src" $dlib
mv -f "$out.$$" "$out"
echo "$stamp" >"$out.stamp"
echo "$out"
