#!/usr/bin/env bash
# install-system-deps.sh: installs the Debian packages the build and the tests
# need, when any is missing. Needs root (apt-get).
set -euo pipefail

packages=(
	# the helper VM: emulator, initramfs tools, busybox for its userland
	qemu-system-x86 busybox-static cpio kmod gzip
	# real network tools, in the namespace tests and inside the helper VM
	iproute2 iputils-ping iputils-arping nftables iptables
	# the firewalls' tools, and socat, the probes' SCTP client and server
	iptables conntrack socat
	# the DNS backend's resolver
	dnsmasq-base
	# pinned protoc for the generated-code check
	protobuf-compiler
	# the vsock addon: native build and the linux/arm64 cross-build
	make g++ python3 gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu file
	git ca-certificates
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-system-deps.sh: missing Debian packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
