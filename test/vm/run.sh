#!/usr/bin/env bash
# run.sh [--mode MODE] [--timeout SECONDS]
#
# Boots the helper VM (kernel from fetch-kernel.sh, initramfs from
# build-image.sh) under QEMU TCG, streams its serial console to stdout and to
# $VM_CACHE/run-<mode>.log, and exits with the vm-driver exit code that /init
# prints as "VM-EXIT: N".
#
# Exit codes besides the driver's own: 124 timeout, 125 VM died without the
# VM-EXIT marker (e.g. kernel panic, QEMU error), 2 usage/setup error.
#
# Environment:
#   VM_CACHE      cache dir (default <repo>/.cache/vm)
#   VM_INITRAMFS  initramfs (default $VM_CACHE/initramfs.cpio.gz)
#   VM_APPEND     extra kernel command line words
#   VM_LOG        console log file (default $VM_CACHE/run-<mode>.log)
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
cache="${VM_CACHE:-$repo_root/.cache/vm}"

die() { echo "run.sh: $*" >&2; exit 2; }
note() { echo "run.sh: $*" >&2; }

usage() { echo "usage: $0 [--mode MODE] [--timeout SECONDS]" >&2; exit 2; }

mode="test"
# Under TCG, Node starts slowly (2-3 s per daemon start) and the scenario,
# with a round per firewall backend, is followed by the bundled test suites.
timeout=2700
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) [ $# -ge 2 ] || usage; mode="$2"; shift 2 ;;
	--mode=*) mode="${1#*=}"; shift ;;
	--timeout) [ $# -ge 2 ] || usage; timeout="$2"; shift 2 ;;
	--timeout=*) timeout="${1#*=}"; shift ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
# The mode travels on the kernel command line as one word.
[[ "$mode" =~ ^[A-Za-z0-9_.-]+$ ]] || die "invalid mode '$mode' (allowed: letters, digits, _ . -)"
if ! [[ "$timeout" =~ ^[0-9]+$ ]] || [ "$timeout" -eq 0 ]; then
	die "invalid timeout '$timeout'"
fi

command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"

initrd="${VM_INITRAMFS:-$cache/initramfs.cpio.gz}"
[ -f "$initrd" ] ||
	die "initramfs '$initrd' not found; build it with: test/vm/build-image.sh"

kver="$("$script_dir/fetch-kernel.sh")" || die "fetch-kernel.sh failed"
# fetch-kernel.sh may have moved to a newer Debian kernel since the image was
# built; its modules would then not load, so refuse early.
if [ -f "$initrd.kver" ] && [ "$(cat "$initrd.kver")" != "$kver" ]; then
	die "initramfs was built for kernel $(cat "$initrd.kver") but the current kernel is $kver; rebuild it with test/vm/build-image.sh"
fi
kernel="$cache/kernel/boot/vmlinuz-$kver"
[ -f "$kernel" ] || die "kernel $kernel missing"

log="${VM_LOG:-$cache/run-$mode.log}"
mkdir -p "$(dirname "$log")"
: >"$log"

work="$(mktemp -d "${TMPDIR:-/tmp}/rs-vm.XXXXXX")"
qpid=""
reader=""

stop_qemu() {
	[ -n "$qpid" ] || return 0
	if kill -0 "$qpid" 2>/dev/null; then
		kill -TERM "$qpid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$qpid" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL "$qpid" 2>/dev/null || true
	fi
	wait "$qpid" 2>/dev/null || true
	qpid=""
}

# shellcheck disable=SC2317 # invoked via trap
cleanup() {
	stop_qemu
	if [ -n "$reader" ]; then
		kill "$reader" 2>/dev/null || true
		wait "$reader" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The console goes through a FIFO so we can stream it while keeping QEMU's own
# PID for the timeout. The filter drops the serial line's carriage returns and
# the terminal escapes SeaBIOS emits (ESC c would reset the caller's terminal).
mkfifo "$work/console"
sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[c78=>]//g' <"$work/console" | tee -a "$log" &
reader=$!

# If this script is SIGKILLed its traps cannot run; PDEATHSIG makes the kernel
# kill QEMU as soon as this shell dies, so QEMU can never be orphaned.
pdeath=()
if command -v setpriv >/dev/null 2>&1 && setpriv --help 2>&1 | grep -q -- --pdeathsig; then
	pdeath=(setpriv --pdeathsig KILL --)
fi

# init_on_alloc=0: zeroing every page the kernel hands out costs about a
# second of TCG time while the ~130 MB image is unpacked; this VM holds no
# secrets between allocations worth that.
append="console=ttyS0 quiet loglevel=3 panic=-1 init_on_alloc=0 rs.mode=$mode${VM_APPEND:+ $VM_APPEND}"
start=$SECONDS
# "-display none -serial mon:stdio" is -nographic without SeaBIOS's serial
# console: with -nographic SeaBIOS prints a banner plus terminal-reset escapes
# on the serial line and bytes get lost at the hand-over to the kernel.
# stdin from /dev/null: a terminal would otherwise be put into raw mode and
# Ctrl-C forwarded to the guest instead of to us.
# 2 GiB: the unpacked image (~120 MB, mostly Node) lives in RAM next to
# the daemon, the driver and the test runners, each a Node process.
"${pdeath[@]}" qemu-system-x86_64 \
	-accel tcg -cpu max -smp 2 -m 2048 \
	-display none -serial mon:stdio -no-reboot -nic none \
	-kernel "$kernel" -initrd "$initrd" \
	-append "$append" \
	</dev/null >"$work/console" 2>&1 &
qpid=$!

timed_out=0
marker_at=""
while kill -0 "$qpid" 2>/dev/null; do
	if [ $((SECONDS - start)) -ge "$timeout" ]; then
		timed_out=1
		break
	fi
	# /init powers off right after the marker; don't wait long if that hangs.
	if [ -z "$marker_at" ]; then
		grep -qaE 'VM-EXIT: [0-9]+' "$log" && marker_at=$SECONDS
	elif [ $((SECONDS - marker_at)) -ge 20 ]; then
		note "VM printed its exit marker but did not power off; stopping QEMU"
		break
	fi
	sleep 0.5
done

qrc=0
if kill -0 "$qpid" 2>/dev/null; then
	stop_qemu
else
	wait "$qpid" || qrc=$?
	qpid=""
fi
# QEMU is gone, so the FIFO is at EOF: wait for the reader to flush the log.
wait "$reader" 2>/dev/null || true
reader=""
elapsed=$((SECONDS - start))

if [ "$timed_out" = 1 ]; then
	note "TIMEOUT: VM (mode $mode) did not finish within ${timeout}s; QEMU killed (log: $log)"
	exit 124
fi

rc="$(grep -aoE 'VM-EXIT: [0-9]+' "$log" | tail -n1 | sed 's/.*: //')" || true
if [ -z "$rc" ]; then
	hint=""
	if grep -qa 'Kernel panic' "$log"; then
		hint=" (kernel panic: $(grep -a 'Kernel panic' "$log" | tail -n1))"
	elif [ "$qrc" != 0 ]; then
		hint=" (qemu exited with status $qrc)"
	fi
	note "VM (mode $mode) ended after ${elapsed}s without a 'VM-EXIT: N' marker$hint; log: $log"
	exit 125
fi
note "VM (mode $mode) exited with $rc after ${elapsed}s (log: $log)"
# Repeat the scenario's closing count last, after QEMU's and our own notes.
summary="$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1)" || true
[ -z "$summary" ] || echo "vm: $summary"
exit "$rc"
