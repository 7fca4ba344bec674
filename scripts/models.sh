#!/usr/bin/env bash
# models.sh builds the model directory ($FACEGATE_MODELS, default ./models)
# and checks every file in it against scripts/models.sha256:
#
#   dlib_face_recognition_resnet_model_v1.dat  converted by tools/dlibconv from
#       the TF.js weights in the npm package @vladmandic/face-api (pinned
#       version and tarball sha256 below);
#   shape_predictor_5_face_landmarks.dat  a copy of Debian libdlib-data's
#       68-point predictor, under the name go-face loads;
#   mmod_human_face_detector.dat  copied from $FACEGATE_MMOD or
#       ../shared/models/.
#
# A file whose checksum is right is left alone, so a second run only reads
# and hashes. A missing or wrong file that cannot be made here gives one line
# naming it and the fix, and exit status 1. Downloads (npm pack) and builds go
# to the cache $FACEGATE_BUILD (default ./build). scripts/arcface-models.sh,
# scripts/faceplugin-models.sh and scripts/expo-models.sh, when executable,
# run last, in that order, with the same environment.
set -euo pipefail
# Paths given in the environment are relative to the caller's directory.
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
[ -z "${FACEGATE_MODELS:-}" ] || FACEGATE_MODELS=$(abs "$FACEGATE_MODELS")
[ -z "${FACEGATE_BUILD:-}" ] || FACEGATE_BUILD=$(abs "$FACEGATE_BUILD")
[ -z "${FACEGATE_MMOD:-}" ] || FACEGATE_MMOD=$(abs "$FACEGATE_MMOD")
cd "$(dirname "$0")/.."
root=$PWD
models=${FACEGATE_MODELS:-$root/models}
build=${FACEGATE_BUILD:-$root/build}
sums=$root/scripts/models.sha256
export FACEGATE_MODELS=$models FACEGATE_BUILD=$build

faceapi_version=1.7.15
faceapi_sha256=0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031
landmarks_src=/usr/share/dlib/shape_predictor_68_face_landmarks.dat

say() { printf 'models.sh: %s\n' "$*" >&2; }
want() { awk -v f="$1" '$2 == f { print $1 }' "$sums"; }
sum() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
declare -A verified=()
ok() {
	[ -f "$models/$1" ] && [ "$(sum "$models/$1")" = "$(want "$1")" ] || return 1
	verified[$1]=1
}

# install copies src to the model directory as name, atomically, if its
# checksum is right.
install_model() {
	local src=$1 name=$2 tmp
	tmp=$models/.$name.$$
	cp -f "$src" "$tmp"
	chmod 644 "$tmp"
	if [ "$(sum "$tmp")" != "$(want "$name")" ]; then
		rm -f "$tmp"
		return 1
	fi
	mv -f "$tmp" "$models/$name"
	verified[$name]=1
}

mkdir -p "$models" "$build"

# --- recognition network -----------------------------------------------------
name=dlib_face_recognition_resnet_model_v1.dat
if ! ok "$name"; then
	tgz=$build/npm/vladmandic-face-api-$faceapi_version.tgz
	if [ "$(sum "$tgz")" != "$faceapi_sha256" ]; then
		if ! command -v npm >/dev/null 2>&1; then
			say "$name: needs npm to fetch @vladmandic/face-api@$faceapi_version: run scripts/deps.sh (make setup)"
			exit 1
		fi
		say "fetching @vladmandic/face-api@$faceapi_version with npm pack"
		mkdir -p "$build/npm"
		rm -f "$tgz"
		(cd "$build/npm" && npm pack --silent --loglevel=error "@vladmandic/face-api@$faceapi_version" >/dev/null)
		if [ "$(sum "$tgz")" != "$faceapi_sha256" ]; then
			say "$tgz: sha256 $(sum "$tgz") is not the pinned $faceapi_sha256: delete it and check your npm registry"
			exit 1
		fi
	fi
	# Per-process names: two setups may run at once.
	weights=$build/faceapi-$faceapi_version.$$
	rm -rf "$weights"
	mkdir -p "$weights"
	tar -xzf "$tgz" -C "$weights" --strip-components=2 \
		package/model/face_recognition_model-weights_manifest.json package/model/face_recognition_model.bin
	conv=$(scripts/dlibconv.sh)
	say "converting $name"
	"$conv" convert "$weights/face_recognition_model-weights_manifest.json" "$build/$name.$$"
	rm -rf "$weights"
	if ! install_model "$build/$name.$$" "$name"; then
		v=$(pkg-config --modversion dlib-1 2>/dev/null || echo unknown)
		say "$name: converted file has sha256 $(sum "$build/$name.$$"), want $(want "$name") (measured with dlib 19.24; installed dlib $v): use Debian 12's libdlib-dev 19.24 or report the new checksum"
		rm -f "$build/$name.$$"
		exit 1
	fi
	rm -f "$build/$name.$$"
fi

# --- landmarks ---------------------------------------------------------------
name=shape_predictor_5_face_landmarks.dat
if ! ok "$name"; then
	if [ -f "$landmarks_src" ]; then
		src=$landmarks_src
	elif [ -f "$landmarks_src.bz2" ]; then
		src=$build/landmarks.dat.$$
		bzip2 -dc "$landmarks_src.bz2" >"$src"
	else
		say "$name: $landmarks_src is missing: install it with: sudo apt-get install libdlib-data"
		exit 1
	fi
	if ! install_model "$src" "$name"; then
		say "$name: $src has sha256 $(sum "$src"), want $(want "$name"): reinstall it with: sudo apt-get install --reinstall libdlib-data"
		exit 1
	fi
	rm -f "$build/landmarks.dat.$$"
fi

# --- CNN face detector -------------------------------------------------------
name=mmod_human_face_detector.dat
if ! ok "$name"; then
	get="get it from https://github.com/davisking/dlib-models ($name.bz2, unpack with bunzip2) or https://github.com/Kagami/go-face-testdata (models/$name)"
	if [ -n "${FACEGATE_MMOD:-}" ]; then
		if [ ! -f "$FACEGATE_MMOD" ]; then
			say "$name: FACEGATE_MMOD=$FACEGATE_MMOD is not a file: $get and point FACEGATE_MMOD at it"
			exit 1
		fi
		if ! install_model "$FACEGATE_MMOD" "$name"; then
			say "$name: FACEGATE_MMOD=$FACEGATE_MMOD has sha256 $(sum "$FACEGATE_MMOD"), want $(want "$name"): $get"
			exit 1
		fi
	elif ! { [ -f "$root/../shared/models/$name" ] && install_model "$root/../shared/models/$name" "$name"; }; then
		say "$name: missing (or wrong) in $models and not in ../shared/models: $get, then run: FACEGATE_MMOD=/path/to/$name make setup"
		exit 1
	fi
fi

# --- final check of everything listed ------------------------------------------
bad=0
while read -r hash file; do
	[ -n "$file" ] || continue
	[ -z "${verified[$file]:-}" ] || continue
	if [ ! -f "$models/$file" ]; then
		say "$file: missing in $models: run make setup"
		bad=1
	elif [ "$(sum "$models/$file")" != "$hash" ]; then
		say "$file: wrong sha256 in $models: delete it and run make setup"
		bad=1
	fi
done <"$sums"
[ $bad = 0 ] || exit 1

if [ -x scripts/arcface-models.sh ]; then
	scripts/arcface-models.sh
fi
if [ -x scripts/faceplugin-models.sh ]; then
	scripts/faceplugin-models.sh
fi
if [ -x scripts/expo-models.sh ]; then
	scripts/expo-models.sh
fi
