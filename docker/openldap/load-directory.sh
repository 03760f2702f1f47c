#!/bin/sh
# Loads the EduGate demo directory into slapd's database; run once, when
# the image is built.
#
#   load-directory.sh <slapd.conf> <directory.ldif> <database dir>
#
# The demo passwords are published and stand in clear text in the LDIF;
# they are stored as {SSHA} hashes, as a real directory would store them.
set -eu

conf=$1
ldif=$2
data=$3

manager_password='ManagerDemo-Passw0rd'

hashed=$(mktemp)
trap 'rm -f "$hashed"' EXIT

# IFS= keeps LDIF continuation lines, which begin with a space
while IFS= read -r line || [ -n "$line" ]; do
    case $line in
    'userPassword: '*)
        printf 'userPassword: %s\n' "$(slappasswd -s "${line#userPassword: }")"
        ;;
    *)
        printf '%s\n' "$line"
        ;;
    esac
done < "$ldif" > "$hashed"

rootpw=$(slappasswd -s "$manager_password")
sed -i "s|@ROOTPW@|$rootpw|" "$conf"

mkdir -p "$data"
slaptest -u -f "$conf"
slapadd -q -f "$conf" -l "$hashed"
