# router-service: the two commands (`make test`, `make demo`) and the steps
# they are made of. Every target first installs what it needs: the Debian
# packages (scripts/install-system-deps.sh, root), the pinned Node and pnpm
# (scripts/toolchain.sh, into .cache/toolchain) and the workspace's packages.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

TOOLCHAIN_PATH := $(shell scripts/toolchain.sh)
ifeq ($(TOOLCHAIN_PATH),)
$(error scripts/toolchain.sh could not install the pinned Node and pnpm: see its message above)
endif
export PATH := $(CURDIR)/node_modules/.bin:$(TOOLCHAIN_PATH):$(PATH)
export TURBO_TELEMETRY_DISABLED := 1
export DO_NOT_TRACK := 1

.PHONY: test demo setup build build-arm64 proto unit-test vm-image vm-test artifacts measure bench clean

# Everything: generated-code check, builds (amd64 + arm64), unit and
# namespace tests, the helper-VM scenario; the last line counts all tiers.
test: setup
	scripts/test-all.sh

# Boots the helper VM and narrates creating networks and reaching them.
demo: setup build vm-image
	@test/vm/run.sh --mode demo

setup:
	scripts/install-system-deps.sh
	pnpm install --frozen-lockfile --reporter=silent

build: setup
	turbo run build lint

# The linux/arm64 vsock addon and artifacts (helper VMs on Apple silicon).
build-arm64: setup
	pnpm --filter @router-service/vsock run build:arm64
	node scripts/build-artifacts.mjs --arch arm64

# Regenerates the ts-proto code from packages/proto/proto.
proto: setup
	pnpm --filter @router-service/proto run generate

unit-test: build
	turbo run test --continue

artifacts: build
	node scripts/build-artifacts.mjs --arch amd64

# Size, start-to-serving time and idle RSS of the amd64 artifacts.
measure: artifacts
	node scripts/measure-artifacts.mjs

# The firewall benchmarks of BENCHMARKS.md (root; minutes). Flags go in
# BENCH_ARGS, e.g. make bench BENCH_ARGS="--backend iptables". Then what
# iptables-nft's commit costs against the hooks that reach the DNAT rules
# (under a minute; no flags), and the container DNS benchmarks (about ten
# minutes), whose flags go in BENCH_DNS_ARGS, e.g.
# make bench BENCH_DNS_ARGS="--sizes 10,1000".
bench: build
	node bench/firewall/dist/src/main.js $(BENCH_ARGS)
	node bench/firewall/dist/src/validation-main.js
	node bench/dns/dist/src/main.js $(BENCH_DNS_ARGS)

vm-image: build
	test/vm/build-image.sh

vm-test: vm-image
	test/vm/run.sh --mode test

clean:
	rm -rf .cache/vm .cache/artifacts
	git clean -fdX packages test bench
