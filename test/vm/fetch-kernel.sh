#!/usr/bin/env bash
# fetch-kernel.sh: download and unpack the Debian cloud kernel used by the
# helper-VM harness. The host kernel lacks 8021q/vsock, so tests run inside a
# QEMU guest booting this kernel.
#
# Output: the kernel version on stdout (one line). Files land in
#   $VM_CACHE/kernel/boot/vmlinuz-<ver>
#   $VM_CACHE/kernel/lib/modules/<ver>/
# and the version is also recorded in $VM_CACHE/kernel-version.
# Idempotent: if the resolved package is already unpacked, nothing is fetched.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${VM_CACHE:-$repo_root/.cache/vm}"
meta_pkg="${VM_KERNEL_META:-linux-image-cloud-amd64}"

die() { echo "fetch-kernel: $*" >&2; exit 1; }

for t in apt-cache apt-get dpkg-deb; do
	command -v "$t" >/dev/null 2>&1 || die "required host tool '$t' not found"
done

mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
kroot="$cache/kernel"

# The meta package only depends on the versioned image package; resolve it so
# we always track whatever Debian currently ships (e.g. linux-image-6.1.0-NN-cloud-amd64).
resolve_pkg() {
	apt-cache depends "$meta_pkg" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}
pkg="$(resolve_pkg)"
# A machine that had every package already may never have fetched the
# package lists: fetch them once (as root) before giving up.
if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
	apt-get update -qq >&2 || true
	pkg="$(resolve_pkg)"
fi
[ -n "$pkg" ] || die "could not resolve the kernel package of '$meta_pkg' (run 'apt-get update' first?)"

# The version string used under /boot and /lib/modules is the package name minus its prefix.
ver="${pkg#linux-image-}"
# Some image packages carry a "-unsigned" suffix that is not part of the release string.
ver="${ver%-unsigned}"

stamp="$kroot/.unpacked-$pkg"
if [ ! -f "$stamp" ] || [ ! -f "$kroot/boot/vmlinuz-$ver" ] || [ ! -d "$kroot/lib/modules/$ver" ]; then
	dl="$cache/debs"
	mkdir -p "$dl"
	rm -f "$dl/${pkg}_"*.deb
	# apt-get download writes into the cwd. Running it as root into a root-only dir
	# triggers apt's "unsandboxed" notice; running as root explicitly avoids that noise.
	(cd "$dl" && apt-get -q=2 -o APT::Sandbox::User=root download "$pkg" >/dev/null) ||
		die "apt-get download $pkg failed"
	debs=("$dl/${pkg}_"*.deb)
	deb="${debs[0]}"
	[ -f "$deb" ] || die "downloaded .deb for $pkg not found in $dl"
	# Unpack into a fresh dir so a stale older kernel never mixes with the new one.
	rm -rf "$kroot.tmp"
	mkdir -p "$kroot.tmp"
	dpkg-deb -x "$deb" "$kroot.tmp"
	[ -f "$kroot.tmp/boot/vmlinuz-$ver" ] || die "vmlinuz-$ver not found in $deb"
	[ -d "$kroot.tmp/lib/modules/$ver" ] || die "lib/modules/$ver not found in $deb"
	touch "$kroot.tmp/.unpacked-$pkg"
	rm -rf "$kroot"
	mv "$kroot.tmp" "$kroot"
	rm -f "$deb"
fi

echo "$ver" >"$cache/kernel-version"
echo "$ver"
