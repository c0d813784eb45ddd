#!/usr/bin/env bash
# Builds every image the compose stack runs on a machine that cannot pull from any image registry:
#   localhost/debian:bookworm        Debian 12 from Debian's packages (debootstrap), the base of the others
#   localhost/wildwatch:latest       the project (Dockerfile, BASE_IMAGE=localhost/debian:bookworm)
#   localhost/wildwatch-postgres:15, -redis:7, -seaweedfs:4, -caddy:2   (deploy/images/*/Containerfile)
# deploy/compose.local-images.yml points the stack at them. With registry access, skip this: compose pulls
# the official images and builds the project's own on python:3.11-slim.
# Needs root and: apt-get install podman runc debootstrap (deploy/podman/env.sh selects runc).
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/podman/env.sh
mirror=${WILDWATCH_DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}

if [ "${1:-}" = --rebuild-base ] || ! podman image exists localhost/debian:bookworm; then
  rootfs=$(mktemp -d /var/tmp/wildwatch-rootfs-XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  echo "debootstrap bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log"; exit 1; }
  rm -f "$rootfs.log"
  # This machine reaches the package registries through a proxy that only the host's CA bundle trusts: the
  # base image carries that bundle for Python's downloads (pip, uv). Without such a proxy it is harmless.
  install -D -m 644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/host-ca.crt"
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/host-ca.crt' --change 'ENV PIP_CERT=/etc/ssl/host-ca.crt' \
    --change 'ENV DEBIAN_FRONTEND=noninteractive' \
    --change 'CMD ["/bin/bash"]' - localhost/debian:bookworm >/dev/null
  echo "built localhost/debian:bookworm"
fi

build() {  # tag, context, [containerfile]
  local started=$SECONDS
  podman build --network host --build-arg BASE_IMAGE=localhost/debian:bookworm -t "$1" ${3:+-f "$3"} "$2" \
    >"/var/tmp/wildwatch-build-${1##*/}.log" 2>&1 || { tail -30 "/var/tmp/wildwatch-build-${1##*/}.log"; exit 1; }
  echo "built $1 in $((SECONDS - started)) s"
}
build localhost/wildwatch-postgres:15 deploy/images/postgres
build localhost/wildwatch-redis:7 deploy/images/redis
build localhost/wildwatch-seaweedfs:4 deploy/images/seaweedfs
build localhost/wildwatch-caddy:2 deploy/images/caddy
build localhost/wildwatch:latest . Dockerfile
