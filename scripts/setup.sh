#!/usr/bin/env bash
# One entry point for `npm run demo` and `npm test` on a fresh machine: system packages,
# npm packages, the TEST ONLY signing identity. Each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
# npm ci when node_modules is missing or older than the lock file
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm ci)"
  # npm 11 may refuse a lock file that lacks the platform packages of an optional dependency (cbor-extract);
  # npm install resolves the same versions and completes the lock file.
  npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error
fi
if [ -f scripts/make-test-identity.sh ]; then bash scripts/make-test-identity.sh; fi
# The verification page (web/ → dist/web/, esbuild); `skillcert serve` and `publish-verifier` rebuild it at start too.
node --import=tsx scripts/build-web.ts
