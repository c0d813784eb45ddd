#!/usr/bin/env bash
# What the production stack needs on this machine (Debian 12, root): podman with runc, and debootstrap to
# build a base image without any image registry (deploy/images/build-local.sh).
set -euo pipefail
missing=()
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap containernetworking-plugins \
    >/dev/null
fi
