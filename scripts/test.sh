#!/usr/bin/env bash
# The test command of the README: installs the real peers if they are missing, typechecks, then
# runs every unit, integration and end-to-end test with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-peers.sh
echo "node $(node --version)"
tsc --noEmit -p .
exec node --test --test-concurrency=2 --test-timeout=600000 \
  'src/**/*.test.ts' 'test/**/*.test.ts'
