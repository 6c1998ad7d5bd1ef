#!/usr/bin/env bash
# test-all.sh: every test tier, in order, then one closing line over all of
# them (scripts/test-summary.mjs). A failing tier does not stop the later
# ones unless they depend on it; the exit status is non-zero if anything
# failed. Run through `make test`, which puts the pinned toolchain on PATH.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

failed_steps="$(mktemp)"
trap 'rm -f "$failed_steps"' EXIT
vm_log=".cache/vm/run-test.log"
rm -f "$vm_log" packages/*/test-results/node.tap test/*/test-results/node.tap bench/*/test-results/node.tap

step() { # step NAME COMMAND...
	local name="$1"
	shift
	echo "=== $name"
	"$@" || { echo "=== FAILED: $name"; echo "$name" >>"$failed_steps"; return 1; }
}

step "generated code is current" pnpm --filter @router-service/proto run check-generated
if step "build and type-check" turbo run build lint; then
	step "unit and namespace tests" turbo run test --continue
	step "linux/arm64 build" make --no-print-directory build-arm64
	step "helper-VM image" test/vm/build-image.sh &&
		step "helper-VM scenario" test/vm/run.sh --mode test
fi
node scripts/test-summary.mjs "$failed_steps" "$vm_log"
