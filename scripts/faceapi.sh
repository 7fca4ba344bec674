#!/usr/bin/env bash
# faceapi.sh installs tools/faceapi's pinned npm packages (face-api 1.7.15,
# which bundles TF.js and its pure-JS CPU backend) with `npm ci`, unless the
# installed tree already matches package-lock.json. The conversion test runs
# face-api from there. Without node it does nothing but say so.
set -euo pipefail
cd "$(dirname "$0")/../tools/faceapi"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "faceapi.sh: node/npm not found, the conversion test will be skipped: run scripts/deps.sh (make setup)" >&2
	exit 0
fi
stamp=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.facegate-stamp 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi
echo "faceapi.sh: npm ci in tools/faceapi" >&2
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
echo "$stamp" >node_modules/.facegate-stamp
