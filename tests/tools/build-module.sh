#!/usr/bin/env bash
# Builds ngx_http_edugate_module.so against an nginx source tree.
#
#   build-module.sh <nginx-src> <build-dir> [extra cflags] [extra ldflags]
#
# The tree is copied into <build-dir>/nginx so the source stays read-only,
# and configured with the flags the distro binary was built with (the
# nginx-dev "conf_flags" file) so that the module is binary-compatible.
set -euo pipefail

src=$1
out=$2
extra_cflags=${3:-}
extra_ldflags=${4:-}
top=$(cd "$(dirname "$0")/../.." && pwd)

if [ ! -x "$src/configure" ] && [ ! -x "$src/auto/configure" ]; then
    echo "build-module: no nginx source tree at $src (apt-get install nginx-dev, or NGINX_SRC=...)" >&2
    exit 1
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
tree=$out/nginx

NGX_CONF_FLAGS=(--with-compat --with-threads)
if [ -f "$src/conf_flags" ]; then
    # shellcheck disable=SC1091
    . "$src/conf_flags"
fi

cflags="-Wall -Wextra -Werror $extra_cflags"
stamp="$src|${NGX_CONF_FLAGS[*]}|$cflags|$extra_ldflags|$(md5sum "$top/config" | cut -d' ' -f1)"

if [ ! -f "$tree/objs/Makefile" ] || [ "$(cat "$tree/.edugate-stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$tree"
    mkdir -p "$tree"
    cp -a "$src/." "$tree/"
    conf=./configure
    [ -x "$tree/configure" ] || conf=./auto/configure
    (cd "$tree" && $conf "${NGX_CONF_FLAGS[@]}" \
        --with-cc-opt="$cflags" --with-ld-opt="$extra_ldflags" \
        --add-dynamic-module="$top" > "$out/configure.log" 2>&1) || {
        grep -E 'error:|requires|Install' "$out/configure.log" >&2 || tail -n 20 "$out/configure.log" >&2
        exit 1
    }
    echo "$stamp" > "$tree/.edugate-stamp"
fi

make -s -C "$tree" -f objs/Makefile modules
cp "$tree/objs/ngx_http_edugate_module.so" "$out/ngx_http_edugate_module.so"
echo "built $out/ngx_http_edugate_module.so"
