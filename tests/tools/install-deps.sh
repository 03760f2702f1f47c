#!/usr/bin/env bash
# Installs the Debian packages EduGate needs to build, test, demo and
# benchmark, skipping those already present.  Needs root or sudo.
set -euo pipefail

pkgs=(
    build-essential pkg-config
    nginx nginx-dev libpcre2-dev zlib1g-dev libssl-dev
    libldap2-dev libhiredis-dev libjwt-dev libxml2-dev libjansson-dev
    libcmocka-dev
    redis-server slapd ldap-utils
    python3 python3-pytest python3-redis python3-ldap python3-jwt python3-lxml
    curl wrk
    libauthcas-perl libxml2-utils openssl
    iso-codes
)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$p")
done

# node and npm generate the GB/T 2260 table (schemas/tools); a machine
# that already has them from another source keeps its own.
command -v npm >/dev/null 2>&1 || missing+=(npm)

[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# slapd's and redis-server's maintainer scripts would start system-wide
# daemons; EduGate runs its own, so keep the system ones off.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
