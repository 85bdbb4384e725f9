#!/usr/bin/env bash
# Installs the Debian packages callserver and its tests use, when missing. Idempotent and quiet when
# everything is there. Run as root (or with sudo available) on Debian 12.
set -euo pipefail

packages=(python3-venv python3-dev gcc postgresql espeak-ng sox mosquitto chromium)

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# pyenv or other non-Debian Pythons bring their own venv: do not insist on python3-venv then
if python3 -c 'import venv, ensurepip' 2>/dev/null; then
    missing=("${missing[@]/python3-venv}")
fi
to_install=()
for pkg in "${missing[@]}"; do [ -n "$pkg" ] && to_install+=("$pkg"); done
[ ${#to_install[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup-system: need root to install: ${to_install[*]}" >&2; exit 1; }
    SUDO="sudo"
fi
echo "setup-system: installing ${to_install[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${to_install[@]}" >/dev/null
# the Debian package starts a cluster of its own; the tests run throwaway clusters instead
if command -v pg_ctlcluster >/dev/null; then $SUDO pg_ctlcluster 15 main stop 2>/dev/null || true; fi
# likewise the broker: tests and deployments start their own mosquitto with their own config
if command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then
    $SUDO systemctl stop mosquitto || true
fi
