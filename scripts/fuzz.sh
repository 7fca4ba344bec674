#!/usr/bin/env bash
# fuzz.sh runs every Fuzz target of the given packages (default ./...) for a
# short while each (FUZZTIME, default 20s): `go test -fuzz` takes one target
# of one package at a time. New corpus entries that fail land in the package's
# testdata/fuzz/<Target>/ as usual; commit them as regression cases.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-20s}
go=${GO:-go}
status=0
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)
for pkg in $($go list "${pkgs[@]}"); do
	if ! list=$($go test -list '^Fuzz' "$pkg" 2>&1); then
		echo "fuzz.sh: $pkg does not build: $list" >&2
		status=1
		continue
	fi
	for target in $(grep '^Fuzz' <<<"$list" || true); do
		echo "fuzz.sh: $pkg $target ($fuzztime)" >&2
		if ! $go test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" "$pkg"; then
			status=1
		fi
	done
done
exit $status
