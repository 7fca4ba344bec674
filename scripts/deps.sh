#!/usr/bin/env bash
# deps.sh checks that the Debian packages FaceGate builds against are
# installed and that OpenBLAS is the BLAS in use. Run as root with apt-get
# available, it installs what is missing (apt-get update first, only then)
# and selects OpenBLAS; otherwise it prints exactly what is missing and the
# command that fixes it, and exits 1. Safe to run any number of times.
set -euo pipefail

# What each package is for:
#   g++ pkg-config                  build tools/dlibconv and go-face's cgo
#   libdlib-dev                     dlib headers and library (go-face, dlibconv)
#   libdlib-data                    shape_predictor_68_face_landmarks.dat
#   libopenblas-dev liblapack-dev   BLAS/LAPACK for dlib (OpenBLAS: fastest here)
#   libatlas-base-dev               libcblas.so, which go-face links with -lcblas
#   libjpeg-dev                     JPEG decoding in go-face
#   libopencv-dev opencv-data       gocv (image IO, Haar cascades)
#   nodejs npm                      face-api reference run of the conversion test
pkgs=(g++ pkg-config libdlib-dev libdlib-data libopenblas-dev liblapack-dev libatlas-base-dev libjpeg-dev libopencv-dev opencv-data)

say() { printf 'deps.sh: %s\n' "$*" >&2; }

# installed reports whether package $1 is installed; one dpkg-query call
# answers for all packages.
status=
installed() {
	grep -qxF "$1 install ok installed" <<<"$status"
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	say "dpkg-query not found: FaceGate's setup supports Debian 12 (bookworm); install these packages by hand: ${pkgs[*]} nodejs npm"
	exit 1
fi

status=$(dpkg-query -W -f='${Package} ${Status}\n' "${pkgs[@]}" nodejs npm 2>/dev/null || true)
missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
# Node may come from NodeSource (whose nodejs package bundles npm and
# conflicts with Debian's npm): accept any node and npm on PATH.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	for p in nodejs npm; do
		installed "$p" || missing+=("$p")
	done
fi

root=false
[ "$(id -u)" = 0 ] && root=true
apt=false
command -v apt-get >/dev/null 2>&1 && apt=true

if [ ${#missing[@]} -gt 0 ]; then
	if $root && $apt; then
		say "installing: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q >&2
		apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
	else
		why="not root"
		$apt || why="apt-get not found"
		say "missing Debian packages: ${missing[*]}"
		say "($why) install them with: sudo apt-get update && sudo apt-get install --no-install-recommends ${missing[*]}"
		exit 1
	fi
fi

# OpenBLAS must be the libblas.so.3 / liblapack.so.3 alternative: a face
# descriptor takes ~18 ms with it, ~30 ms with ATLAS, ~150 ms with the
# reference BLAS (../shared/notes/dlib-from-npm.md).
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
fixes=()
for lib in libblas.so.3 liblapack.so.3; do
	want=/usr/lib/$arch/openblas-pthread/$lib
	have=$(readlink -f "/usr/lib/$arch/$lib" 2>/dev/null || true)
	if [ "$have" != "$(readlink -f "$want" 2>/dev/null || echo "$want")" ]; then
		fixes+=("update-alternatives --set $lib-$arch $want")
	fi
done
if [ ${#fixes[@]} -gt 0 ]; then
	if $root; then
		for f in "${fixes[@]}"; do
			say "selecting OpenBLAS: $f"
			$f >&2
		done
	else
		say "the BLAS in use is not OpenBLAS (not root); select it with: $(printf 'sudo %s; ' "${fixes[@]}")"
		exit 1
	fi
fi

# go-face links "-ldlib -lblas -lcblas -llapack -ljpeg"; check that exact
# line links (libcblas.so comes from libatlas-base-dev). With Debian's
# default --as-needed linking, cblas_* calls still bind to libblas.so.3,
# i.e. OpenBLAS.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo 'int main() { return 0; }' >"$tmp/t.cc"
if ! g++ "$tmp/t.cc" -o "$tmp/t" -ldlib -lblas -lcblas -llapack -ljpeg 2>"$tmp/err"; then
	say "linking -ldlib -lblas -lcblas -llapack -ljpeg fails ($(head -n1 "$tmp/err")): reinstall with: sudo apt-get install --reinstall libdlib-dev libopenblas-dev libatlas-base-dev liblapack-dev libjpeg-dev"
	exit 1
fi
# Go is not a Debian package here (bookworm has 1.19): it must be on PATH at
# the version go.mod names (or able to fetch that toolchain itself).
cd "$(dirname "$0")/.."
need=$(awk '$1 == "go" { print $2; exit }' go.mod)
if ! have=$(go env GOVERSION 2>/dev/null); then
	say "go not found on PATH: install Go $need or newer from https://go.dev/dl/"
	exit 1
fi
have=${have#go}
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
	say "go $have is older than go.mod's $need: install Go $need or newer from https://go.dev/dl/"
	exit 1
fi
if ! pkg-config --exists opencv4; then
	say "pkg-config finds no opencv4: reinstall with: sudo apt-get install --reinstall libopencv-dev"
	exit 1
fi
