#!/usr/bin/env bash
# Build the SharePoint Framework package (.sppkg) of the "Social media policy adviser" web
# part from a clean checkout, and print its path on the last line.
#
#   bash deploy/sharepoint/build.sh
#
# SPFx 1.22 (heft toolchain) declares Node >=22.14 <23. When the node on PATH is not such a
# node, the official Node 22 linux binary is taken from the npm registry (the package
# node-linux-<arch>, pinned below with its integrity) into .tools/ beside this script and put
# first on PATH. Needs: bash, tar, and any node >= 20 with npm (only to fetch that package).
# Then: npm ci (package-lock.json), heft test --clean --production (lint, compile, bundle),
# heft package-solution --production.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

NODE_VERSION="22.23.3"
declare -A NODE_INTEGRITY=(
  [x64]="sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng=="
  [arm64]="sha512-l3DAHZreylo+p9QXDtsOrjG2JXJqVzYXnAGmIQNOUNARcMppTO2cmewVQP+36tjJnSE+dzpMNtgW+c3oiDvXtA=="
)

started=$SECONDS
say() { printf '[build-sharepoint] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# True when the node on PATH satisfies SPFx's engines range (>=22.14.0 <23).
node_fits() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number);
             process.exit(a === 22 && b >= 14 ? 0 : 1)' 2>/dev/null
}

use_pinned_node() {
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no Node 22 package for $(uname -m); install Node >=22.14 <23 and rerun" ;;
  esac
  [[ "$(uname -s)" == Linux ]] || die "install Node >=22.14 <23 and rerun (only Linux is fetched)"
  local dir="$here/.tools/node-v$NODE_VERSION-linux-$arch"
  if [[ ! -x "$dir/bin/node" ]]; then
    command -v npm >/dev/null 2>&1 || die "need npm (any Node >= 20) to fetch Node $NODE_VERSION"
    say "fetching Node $NODE_VERSION (node-linux-$arch) from the npm registry into .tools/"
    local tmp
    tmp="$(mktemp -d "$here/.tools.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    local tgz
    tgz="$(cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" | tail -n 1)"
    local got
    got="sha512-$(node -e 'const c = require("crypto"), fs = require("fs");
      process.stdout.write(c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' \
      "$tmp/$tgz")"
    [[ "$got" == "${NODE_INTEGRITY[$arch]}" ]] || die "node-linux-$arch@$NODE_VERSION: integrity mismatch ($got)"
    tar -xzf "$tmp/$tgz" -C "$tmp"
    mkdir -p "$here/.tools"
    rm -rf "$dir"
    mv "$tmp/package" "$dir"
    rm -rf "$tmp"
    trap - EXIT
  fi
  export PATH="$dir/bin:$PATH"
  node_fits || die "the Node in $dir does not run here"
}

if node_fits; then
  say "using node $(node -v) from PATH"
else
  say "node on PATH is $(node -v 2>/dev/null || echo 'missing'); SPFx 1.22 needs >=22.14 <23"
  use_pinned_node
  say "using node $(node -v) from .tools/"
fi
command -v npm >/dev/null 2>&1 || die "npm not found"

# No telemetry, no update checks, no prompts: CI and clean machines.
export SPFX_DISABLE_TELEMETRY=1 NO_UPDATE_NOTIFIER=1 npm_config_update_notifier=false
export npm_config_fund=false npm_config_audit=false

say "npm ci"
npm ci --no-audit --no-fund --loglevel=error

say "heft test --clean --production"
./node_modules/.bin/heft test --clean --production
say "heft package-solution --production"
./node_modules/.bin/heft package-solution --production

shopt -s nullglob
packages=("$here"/sharepoint/solution/*.sppkg)
[[ ${#packages[@]} -eq 1 ]] || die "expected one .sppkg in sharepoint/solution, found ${#packages[@]}"
size=$(wc -c <"${packages[0]}")
say "built in $((SECONDS - started)) s: ${packages[0]} ($size bytes)"
printf '%s\n' "${packages[0]}"
