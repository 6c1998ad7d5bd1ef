#!/usr/bin/env bash
# toolchain.sh: installs the Node runtime and pnpm pinned in package.json
# (devEngines) from the npm registry into .cache/toolchain, once, and prints
# the directories to put first on PATH. The machine's own Node only runs npm
# here; everything else runs on the pinned runtime.
#
#   export PATH="$(scripts/toolchain.sh):$PATH"
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.cache/toolchain"

pinned() { # pinned runtime|packageManager
	node -e 'const p = require(process.argv[1]).devEngines[process.argv[2]];
		if (!p || !/^\d+\.\d+\.\d+$/.test(p.version)) { process.exit(1); }
		process.stdout.write(p.name + "@" + p.version);' "$root/package.json" "$1"
}

command -v npm >/dev/null 2>&1 || { echo "toolchain.sh: npm not found: install Node.js with npm first" >&2; exit 1; }
runtime="$(pinned runtime)" || { echo "toolchain.sh: devEngines.runtime missing in package.json" >&2; exit 1; }
manager="$(pinned packageManager)" || { echo "toolchain.sh: devEngines.packageManager missing in package.json" >&2; exit 1; }

stamp="$dir/.installed"
if [ "$(cat "$stamp" 2>/dev/null)" != "$runtime $manager" ]; then
	rm -rf "$dir"
	mkdir -p "$dir"
	echo '{"private": true}' >"$dir/package.json"
	npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error \
		"$runtime" "$manager" >&2
	echo "$runtime $manager" >"$stamp"
fi
echo "$dir/node_modules/node/bin:$dir/node_modules/.bin"
