#!/usr/bin/env bash
# mkinitramfs.sh --artifacts DIR --test-payload DIR OUTPUT
#
# Builds the gzip'd newc initramfs for the router-service helper VM:
#   - busybox-static (applets symlinked into /bin at boot),
#   - the real iproute2 `ip` and nftables `nft` with their shared libraries,
#     because busybox ip has no netns/vlan support, and dnsmasq, the
#     daemon's DNS backend (it runs as root: the image has no user nobody),
#   - the real iptables (Debian's xtables-nft-multi and xtables-legacy-multi
#     under every iptables name, with their extensions), conntrack(8), socat
#     (the probes' SCTP client and server), iputils ping and coreutils
#     printenv,
#   - the kernel modules the router needs (plus their dependencies) for the
#     kernel from fetch-kernel.sh, with a load-order file,
#   - the amd64 artifacts (scripts/build-artifacts.mjs) at /opt/router-service,
#     their Node's shared libraries, and /usr/local/bin/router-service and
#     /usr/local/bin/routerctl linking to their launchers,
#   - the test payload (bundle-test-payload.mjs) at /opt/router-service-test,
#   - an /init that loads modules and runs the payload's vm-driver.mjs on the
#     artifacts' node, then prints "VM-EXIT: N" and powers off.
#
# gzip, not xz: the kernel unpacks xz about twice as slowly, and the image
# is mostly the Node binary.
#
# Environment:
#   VM_CACHE          cache dir (default <repo>/.cache/vm)
#   VM_EXTRA_MODULES  extra module names (space separated) to include and load
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
cache="${VM_CACHE:-$repo_root/.cache/vm}"

die() { echo "mkinitramfs: $*" >&2; exit 1; }
note() { echo "mkinitramfs: $*" >&2; }
usage() { die "usage: $0 --artifacts DIR --test-payload DIR OUTPUT"; }

artifacts=""
payload=""
output=""
while [ $# -gt 0 ]; do
	case "$1" in
	--artifacts) [ $# -ge 2 ] || usage; artifacts="$2"; shift 2 ;;
	--test-payload) [ $# -ge 2 ] || usage; payload="$2"; shift 2 ;;
	-*) usage ;;
	*) [ -z "$output" ] || usage; output="$1"; shift ;;
	esac
done
[ -n "$artifacts" ] && [ -n "$payload" ] && [ -n "$output" ] || usage
for f in node bin/router-service bin/routerctl router-service.mjs routerctl.mjs vsock.node; do
	[ -f "$artifacts/$f" ] ||
		die "$artifacts/$f not found; build the artifacts with: node scripts/build-artifacts.mjs --arch amd64"
done
[ -f "$payload/vm-driver.mjs" ] ||
	die "$payload/vm-driver.mjs not found; build the payload with: node test/vm/bundle-test-payload.mjs"

# Modules the router needs. A trailing '?' marks modules that may legitimately
# not exist as a separate file (e.g. nft_counter is linked into nf_tables.ko
# since 5.x). The inet variants are there so `table inet` rules with fib/reject
# work without relying on autoload. vsock_loopback lets the daemon and its
# clients talk over vsock inside the guest (CID 1).
modules=(
	8021q vsock vmw_vsock_virtio_transport_common vsock_loopback veth bridge
	nf_tables nf_conntrack nf_nat nft_chain_nat nft_ct nft_nat nft_masq
	nft_redir nft_fib_ipv4 nft_reject_ipv4 nf_reject_ipv4 nft_limit
	'nft_counter?' 'nft_fib_inet?' 'nft_reject_inet?'
	# The iptables firewall, in both of Debian's variants: legacy (ip_tables
	# and its tables) and nft-based, which runs the xt_ matches and targets
	# it cannot express natively through nft_compat.
	x_tables ip_tables iptable_filter iptable_nat iptable_raw iptable_mangle nft_compat
	xt_tcpudp xt_conntrack xt_state xt_addrtype xt_comment xt_multiport xt_sctp
	xt_mark xt_iprange xt_MASQUERADE xt_nat ipt_REJECT
	# conntrack(8) talks to the connection table over ctnetlink; SCTP sockets
	# for the probes. (SCTP connection tracking and NAT are part of
	# nf_conntrack and nf_nat when CONFIG_NF_CT_PROTO_SCTP=y, checked below.)
	nf_conntrack_netlink sctp
)
# shellcheck disable=SC2206 # word splitting of the env list is intended
modules+=(${VM_EXTRA_MODULES:-})

# --- host tool checks -------------------------------------------------------
need() { command -v "$1" >/dev/null 2>&1 || die "required host tool '$1' not found ($2)"; }
need cpio "apt-get install cpio"
need gzip "apt-get install gzip"
need modinfo "apt-get install kmod"
need depmod "apt-get install kmod"
need ldd "apt-get install libc-bin"
[ -x /usr/sbin/ip ] || die "/usr/sbin/ip not found (apt-get install iproute2)"
[ -x /usr/sbin/nft ] || die "/usr/sbin/nft not found (apt-get install nftables)"
[ -x /usr/sbin/xtables-nft-multi ] && [ -x /usr/sbin/xtables-legacy-multi ] ||
	die "/usr/sbin/xtables-{nft,legacy}-multi not found (apt-get install iptables)"
xtables_dir=/usr/lib/x86_64-linux-gnu/xtables
[ -f "$xtables_dir/libxt_sctp.so" ] || die "$xtables_dir/libxt_sctp.so not found (apt-get install iptables)"
[ -x /usr/sbin/conntrack ] || die "/usr/sbin/conntrack not found (apt-get install conntrack)"
[ -x /usr/bin/socat ] || die "/usr/bin/socat not found (apt-get install socat)"
[ -x /usr/bin/ping ] || die "/usr/bin/ping not found (apt-get install iputils-ping)"
[ -x /usr/bin/printenv ] || die "/usr/bin/printenv not found (apt-get install coreutils)"
[ -x /usr/sbin/dnsmasq ] || die "/usr/sbin/dnsmasq not found (apt-get install dnsmasq-base)"

busybox="$(command -v busybox || true)"
[ -n "$busybox" ] || die "busybox not found (apt-get install busybox-static)"
# The initramfs has no libc for busybox itself, so it must be the static build.
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked; install busybox-static"
fi

# --- kernel -----------------------------------------------------------------
kver="$("$script_dir/fetch-kernel.sh")"
kroot="$cache/kernel"
kmods="$kroot/lib/modules/$kver"
[ -d "$kmods" ] || die "module tree $kmods missing; run test/vm/fetch-kernel.sh"
# The .deb ships no modules.dep (postinst runs depmod); modinfo needs it to
# resolve names, so generate it once inside the cache copy.
if [ ! -s "$kmods/modules.dep" ]; then
	depmod -b "$kroot" "$kver" || die "depmod failed for $kver"
fi

# SCTP connections are tracked and NATed only when the kernel was built
# with it; it has no module of its own.
if [ -f "$kroot/boot/config-$kver" ]; then
	grep -qx 'CONFIG_NF_CT_PROTO_SCTP=y' "$kroot/boot/config-$kver" ||
		die "kernel $kver lacks CONFIG_NF_CT_PROTO_SCTP=y: SCTP cannot be tracked or NATed"
else
	die "$kroot/boot/config-$kver missing: cannot tell whether the kernel tracks SCTP"
fi

stage="$(mktemp -d "${TMPDIR:-/tmp}/rs-initramfs.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,run,tmp,etc,root,usr/sbin,usr/bin,usr/local/bin,var,lib/modules/"$kver"}
# /var/run must live on the tmpfs /run so `ip netns` bind mounts land there.
ln -s ../run "$stage/var/run"

# --- programs and their shared libraries -----------------------------------
# Copies every library ldd lists (dereferencing symlinks) to the same path in
# the image; the loader is listed by ldd without "=>" and is copied to its
# interpreter path (/lib64/ld-linux-x86-64.so.2), which on merged-/usr hosts is
# itself a symlink that must be resolved.
copy_libs() {
	local bin="$1" line lib
	if ! ldd "$bin" >/dev/null 2>&1; then
		return 0 # static binary
	fi
	while IFS= read -r line; do
		case "$line" in
		*"=> not found"*) die "$bin: missing library: $line" ;;
		*"=> /"*) lib="${line#*=> }"; lib="${lib%% (*}" ;;
		*/*) lib="${line#"${line%%/*}"}"; lib="${lib%% (*}" ;;
		*) continue ;; # linux-vdso.so.1 and friends live in the kernel
		esac
		lib="${lib//[[:space:]]/}"
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done < <(ldd "$bin")
}

install_bin() { # install_bin SRC DEST
	mkdir -p "$stage$(dirname "$2")"
	cp -L "$1" "$stage$2"
	chmod 0755 "$stage$2"
	copy_libs "$1"
}

cp "$busybox" "$stage/bin/busybox"
chmod 0755 "$stage/bin/busybox"

install_bin /usr/sbin/ip /usr/sbin/ip
install_bin /usr/sbin/nft /usr/sbin/nft

# iptables: the two multi-call binaries pick the command from the name they
# are run by. Plain iptables is the nft-based one, as on Debian. The
# extensions (libxt_*.so, one per match and target) are loaded at run time
# from the compiled-in directory, so ldd of the binaries does not show them.
install_bin /usr/sbin/xtables-nft-multi /usr/sbin/xtables-nft-multi
install_bin /usr/sbin/xtables-legacy-multi /usr/sbin/xtables-legacy-multi
for cmd in iptables iptables-restore iptables-save; do
	ln -s xtables-nft-multi "$stage/usr/sbin/$cmd"
	ln -s xtables-nft-multi "$stage/usr/sbin/${cmd/iptables/iptables-nft}"
	ln -s xtables-legacy-multi "$stage/usr/sbin/${cmd/iptables/iptables-legacy}"
done
mkdir -p "$stage$(dirname "$xtables_dir")"
cp -RL "$xtables_dir" "$stage$xtables_dir"
for ext in "$xtables_dir"/*.so; do
	copy_libs "$ext"
done
install_bin /usr/sbin/conntrack /usr/sbin/conntrack
install_bin /usr/bin/socat /usr/bin/socat
# iputils ping, by the path the namespace tests call it; busybox's ping
# stays at /bin/ping.
install_bin /usr/bin/ping /usr/bin/ping
# coreutils printenv: the shared firewall suite's socat servers answer with
# it; busybox has no printenv applet.
install_bin /usr/bin/printenv /usr/bin/printenv
install_bin /usr/sbin/dnsmasq /usr/sbin/dnsmasq

# Name databases used by ip (rt_protos, ...) and nft (service/protocol names).
[ -d /etc/iproute2 ] && cp -rL /etc/iproute2 "$stage/etc/iproute2"
for f in /etc/services /etc/protocols /etc/ethertypes; do
	[ -f "$f" ] && cp -L "$f" "$stage$f"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$stage/etc/hosts"
echo "$kver" >"$stage/etc/kernel-version"

# The artifacts and the payload keep their layout: launchers find node and
# the bundles relative to themselves, bundles find vsock.node next to them.
mkdir -p "$stage/opt"
cp -R "$artifacts" "$stage/opt/router-service"
cp -R "$payload" "$stage/opt/router-service-test"
copy_libs "$stage/opt/router-service/node"
copy_libs "$stage/opt/router-service/vsock.node"
ln -s /opt/router-service/bin/router-service "$stage/usr/local/bin/router-service"
ln -s /opt/router-service/bin/routerctl "$stage/usr/local/bin/routerctl"

# --- kernel modules ---------------------------------------------------------
declare -A seen=()
order=()

builtin_mod() { # true if NAME is compiled into vmlinux
	local n="${1//-/_}"
	[ -f "$kmods/modules.builtin" ] &&
		sed 's,.*/,,; s,\.ko$,,; s,-,_,g' "$kmods/modules.builtin" | grep -qx "$n"
}

# Depth-first walk so that every module is appended after its dependencies.
resolve() { # resolve NAME OPTIONAL
	local name="${1//-/_}" optional="$2" file deps dep
	[ -n "${seen[$name]:-}" ] && return 0
	seen[$name]=1
	if ! file="$(modinfo -b "$kroot" -k "$kver" -F filename "$name" 2>/dev/null)"; then
		if builtin_mod "$name"; then
			note "module $name is built into $kver; skipping"
			return 0
		fi
		[ "$optional" = 1 ] && { note "optional module $name not present in $kver; skipping"; return 0; }
		die "module '$name' not found for kernel $kver (not built in either)"
	fi
	case "$file" in
	"(builtin)") note "module $name is built into $kver; skipping"; return 0 ;;
	esac
	deps="$(modinfo -b "$kroot" -k "$kver" -F depends "$name")"
	for dep in ${deps//,/ }; do
		resolve "$dep" 0
	done
	order+=("$file")
}

for m in "${modules[@]}"; do
	case "$m" in
	*\?) resolve "${m%\?}" 1 ;;
	*) resolve "$m" 0 ;;
	esac
done

: >"$stage/etc/modules.load"
for file in "${order[@]}"; do
	rel="${file#"$kmods"/}"
	case "$rel" in
	/*) die "module path $file is outside $kmods" ;;
	esac
	dst="$stage/lib/modules/$kver/$rel"
	mkdir -p "$(dirname "$dst")"
	# busybox insmod cannot read compressed modules, so decompress here.
	case "$file" in
	*.ko.xz) need xz "apt-get install xz-utils"; xz -dc "$file" >"${dst%.xz}"; rel="${rel%.xz}" ;;
	*.ko.zst) need zstd "apt-get install zstd"; zstd -qdc "$file" >"${dst%.zst}"; rel="${rel%.zst}" ;;
	*.ko.gz) gzip -dc "$file" >"${dst%.gz}"; rel="${rel%.gz}" ;;
	*.ko) cp "$file" "$dst" ;;
	*) die "unexpected module file name $file" ;;
	esac
	echo "$rel" >>"$stage/etc/modules.load"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$kmods/$f" ] && cp "$kmods/$f" "$stage/lib/modules/$kver/"
done
# modules.dep/alias for the subset, so the kernel's on-demand module requests
# (via busybox modprobe) find anything that was not preloaded.
depmod -b "$stage" "$kver" || die "depmod on the image failed"

# --- /init ------------------------------------------------------------------
cat >"$stage/init" <<'INIT'
#!/bin/busybox sh
# PID 1 of the router-service helper VM. Deliberately no `set -e`: PID 1 must
# always reach the VM-EXIT marker and power off, or the kernel panics.
/bin/busybox mkdir -p /dev /proc /sys /run /tmp
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
# If the image had no /dev/console, stdio is closed until devtmpfs is mounted.
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/usr/sbin:/bin
export HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
# The links udev would make; nft -f - reads its input from /dev/stdin.
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
# `ip netns add` needs its run dir (/var/run -> /run).
mkdir -p /var/run/netns
# Only emergencies on the console so the driver's output stays readable.
dmesg -n 1
hostname router-vm

kver="$(uname -r)"
if [ ! -d "/lib/modules/$kver" ]; then
	echo "init: no modules for running kernel $kver (image built for $(cat /etc/kernel-version))"
fi
# Kernel-initiated module requests (e.g. nft expressions) go to busybox modprobe.
echo /bin/modprobe >/proc/sys/kernel/modprobe 2>/dev/null
modfail=0
while read -r mod; do
	[ -n "$mod" ] || continue
	if ! out="$(insmod "/lib/modules/$kver/$mod" 2>&1)"; then
		# EEXIST means it was already loaded (e.g. pulled in on demand).
		case "$out" in
		*"File exists"*) ;;
		*) echo "init: insmod $mod failed: $out"; modfail=$((modfail + 1)) ;;
		esac
	fi
done </etc/modules.load
[ "$modfail" -eq 0 ] || echo "init: $modfail module(s) failed to load"

ip link set lo up

mode="test"
read -r cmdline </proc/cmdline
for word in $cmdline; do
	case "$word" in
	rs.mode=*) mode="${word#rs.mode=}" ;;
	esac
done

echo "init: $(cut -d' ' -f1 /proc/uptime)s after boot, starting vm-driver (mode $mode)"
/opt/router-service/node /opt/router-service-test/vm-driver.mjs --mode "$mode"
rc=$?
# Leading newline: the driver's last line may lack one; run.sh greps this.
printf '\nVM-EXIT: %s\n' "$rc"
sync
poweroff -f
# Fallbacks if ACPI power-off did not work: reboot (QEMU runs -no-reboot).
sleep 5
echo b >/proc/sysrq-trigger
INIT
chmod 0755 "$stage/init"

# Console node so the kernel can give /init stdio before devtmpfs is mounted.
if [ "$(id -u)" = 0 ]; then
	mknod -m 0600 "$stage/dev/console" c 5 1
	mknod -m 0666 "$stage/dev/null" c 1 3
	# dnsmasq seeds its random numbers before doing anything, --version included.
	mknod -m 0666 "$stage/dev/urandom" c 1 9
	# Sanity check that the copied libraries are complete.
	# (ip -V complains on stderr that it cannot query libbpf at runtime; harmless.)
	out="$(chroot "$stage" /usr/sbin/ip -V 2>&1)" ||
		die "ip does not run inside the image (missing libraries?): $out"
	out="$(chroot "$stage" /usr/sbin/nft --version 2>&1)" ||
		die "nft does not run inside the image (missing libraries?): $out"
	# Asking for a match's help loads its extension, without touching the kernel.
	for cmd in iptables-nft iptables-legacy; do
		for ext in conntrack addrtype comment multiport sctp; do
			out="$(chroot "$stage" "/usr/sbin/$cmd" -m "$ext" -h 2>&1)" ||
				die "$cmd cannot load its $ext extension inside the image: $out"
		done
		out="$(chroot "$stage" "/usr/sbin/$cmd" -j MASQUERADE -h 2>&1)" ||
			die "$cmd cannot load its MASQUERADE extension inside the image: $out"
	done
	out="$(chroot "$stage" /usr/sbin/conntrack --version 2>&1)" ||
		die "conntrack does not run inside the image (missing libraries?): $out"
	out="$(chroot "$stage" /usr/bin/socat -V 2>&1)" ||
		die "socat does not run inside the image (missing libraries?): $out"
	out="$(chroot "$stage" /usr/bin/ping -V 2>&1)" ||
		die "ping does not run inside the image (missing libraries?): $out"
	out="$(chroot "$stage" /usr/sbin/dnsmasq --version 2>&1)" ||
		die "dnsmasq does not run inside the image (missing libraries?): $out"
	out="$(chroot "$stage" /opt/router-service/node -e \
		'process.dlopen({ exports: {} }, "/opt/router-service/vsock.node")' 2>&1)" ||
		die "node or its vsock addon does not run inside the image (missing libraries?): $out"
fi

# --- pack -------------------------------------------------------------------
mkdir -p "$(dirname "$output")"
tmp_out="$output.tmp.$$"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
	gzip -6 >"$tmp_out" || { rm -f "$tmp_out"; die "packing failed"; }
mv "$tmp_out" "$output"
# Record which kernel the modules belong to, for run.sh.
echo "$kver" >"$output.kver"

note "wrote $output ($(du -h "$output" | cut -f1)) for kernel $kver, ${#order[@]} modules:"
for file in "${order[@]}"; do
	basename "$file"
done | tr '\n' ' ' | sed 's/ $/\n/' >&2
