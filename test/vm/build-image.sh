#!/usr/bin/env bash
# build-image.sh: builds the helper-VM image from the built packages
# (`turbo run build` first), for run.sh:
#   1. the amd64 artifacts (scripts/build-artifacts.mjs) in
#      <repo>/.cache/artifacts/linux-amd64,
#   2. the test payload (bundle-test-payload.mjs) in $VM_CACHE/test-payload,
#   3. the initramfs (mkinitramfs.sh, which also fetches the kernel) at
#      $VM_CACHE/initramfs.cpio.gz.
# Runs on the pinned Node: export PATH="$(scripts/toolchain.sh):$PATH".
#
# Environment:
#   VM_CACHE  cache dir (default <repo>/.cache/vm)
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
cache="${VM_CACHE:-$repo_root/.cache/vm}"
artifacts="$repo_root/.cache/artifacts/linux-amd64"
payload="$cache/test-payload"

command -v node >/dev/null 2>&1 ||
	{ echo "build-image: node not found; run: export PATH=\"\$(scripts/toolchain.sh):\$PATH\"" >&2; exit 1; }

node "$repo_root/scripts/build-artifacts.mjs" --arch amd64 --out "$artifacts"
node "$script_dir/bundle-test-payload.mjs" --artifacts "$artifacts" --out "$payload"
"$script_dir/mkinitramfs.sh" --artifacts "$artifacts" --test-payload "$payload" "$cache/initramfs.cpio.gz"
