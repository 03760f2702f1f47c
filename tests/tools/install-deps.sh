#!/usr/bin/env bash
# Installs the Debian packages EduGate needs to build, test, demo and
# benchmark, skipping those already present (needs root or sudo for
# them), then the npm packages of the OIDC client tests in tests/clients
# when they are missing or older than package-lock.json (not with
# --no-npm, which `make demo` uses: the demo needs no npm package).
set -euo pipefail

npm_packages=yes
[ "${1:-}" = "--no-npm" ] && npm_packages=no

pkgs=(
    build-essential pkg-config
    nginx nginx-dev libpcre2-dev zlib1g-dev libssl-dev
    libldap2-dev libhiredis-dev libjwt-dev libxml2-dev libjansson-dev
    libcmocka-dev
    clang libclang-rt-14-dev
    redis-server slapd ldap-utils
    python3 python3-pytest python3-redis python3-ldap python3-jwt python3-lxml
    python3-cryptography python3-prometheus-client python3-jsonschema
    curl wrk
    libauthcas-perl libxml2-utils openssl
    iso-codes
)

# Node.js runs the independent OIDC client tests and generates the
# GB/T 2260 table of the data standard (schemas/tools); a node installed
# some other way is used as it is.  Not needed by the demo.
if [ $npm_packages = yes ]; then
    command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
    command -v npm >/dev/null 2>&1 || pkgs+=(npm)
    # runs the demo single-page app in the tests (puppeteer-core drives it)
    pkgs+=(chromium)
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # slapd's and redis-server's maintainer scripts would start system-wide
    # daemons; EduGate runs its own, so keep the system ones off.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d \
            >/dev/null
        $sudo chmod +x /usr/sbin/policy-rc.d
        trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm ci, when node_modules is missing or was installed from another
# package-lock.json (the stamp holds the lock file's hash).
clients="$(cd "$(dirname "$0")/../clients" && pwd)"
lock_hash=$(sha256sum "$clients/package-lock.json" | cut -d' ' -f1)
stamp="$clients/node_modules/.package-lock.sha256"
if [ $npm_packages = yes ] &&
   [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
    echo "installing the npm packages of tests/clients"
    (cd "$clients" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_hash" > "$stamp"
fi
