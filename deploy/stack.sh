#!/usr/bin/env bash
# The production compose stack (docker-compose.yml) on this machine, with podman and the images built here
# from Debian's packages (deploy/images/build-local.sh); tests/stack drives it the same way.
#   deploy/stack.sh build              build the images (Debian base once, then each image)
#   deploy/stack.sh env                write var/stack/.env with fresh random secrets (kept if it exists)
#   deploy/stack.sh up [--demo]        start it; --demo adds the demo marketplaces and points the demo sites there
#   deploy/stack.sh down               remove the containers; every volume (database, evidence) stays
#   deploy/stack.sh destroy            remove the containers and the volumes: everything is gone
#   deploy/stack.sh compose ARGS...    any podman-compose command on the same files (ps, logs SERVICE, exec ...)
# WILDWATCH_STACK_ENV (an env file) and WILDWATCH_STACK_PROJECT (a compose project name) choose another stack.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source deploy/podman/env.sh
env_file=${WILDWATCH_STACK_ENV:-$root/var/stack/.env}
project=${WILDWATCH_STACK_PROJECT:-wildwatch}
compose_bin=${PODMAN_COMPOSE:-$(command -v podman-compose || echo "$root/.venv/bin/podman-compose")}

files=(-f docker-compose.yml -f deploy/compose.local-images.yml)
compose() { "$compose_bin" --env-file "$env_file" -p "$project" "${files[@]}" "$@"; }

write_env() {
  [ -f "$env_file" ] && return 0
  mkdir -p "$(dirname "$env_file")"
  local secret
  secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(36))'; }
  umask 077
  cat >"$env_file" <<EOF
POSTGRES_PASSWORD=$(secret)
WILDWATCH_DB_PASSWORD=$(secret)
AIRFLOW_DB_PASSWORD=$(secret)
REDIS_PASSWORD=$(secret)
AIRFLOW_FERNET_KEY=$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')
AIRFLOW_JWT_SECRET=$(secret)$(secret)
WILDWATCH_SECRET_KEY=$(secret)
WILDWATCH_S3_ACCESS_KEY=wildwatch
WILDWATCH_S3_SECRET_KEY=$(secret)
WILDWATCH_USER_AGENT=wildwatch-stack-test (+https://github.com/wildwatch/wildwatch)
WILDWATCH_PUBLIC_HOST=localhost
WILDWATCH_TLS=internal
WILDWATCH_HTTPS_BIND=127.0.0.1
WILDWATCH_HTTPS_PORT=${WILDWATCH_HTTPS_PORT:-8943}
WILDWATCH_AIRFLOW_PORT=${WILDWATCH_AIRFLOW_PORT:-8944}
WILDWATCH_IMAGE=localhost/wildwatch:latest
WILDWATCH_WORKER_MEMORY=6g
EOF
  echo "wrote $env_file"
}

healthy() {  # services...: run each one's own health check until it passes (podman without systemd does not
  local service   # schedule them, and podman before 4.6 cannot wait for "healthy")
  for service in "$@"; do
    for i in $(seq 120); do
      podman healthcheck run "${project}_${service}_1" >/dev/null 2>&1 && continue 2
      sleep 5
    done
    echo "$service did not become healthy:"; podman logs --tail 40 "${project}_${service}_1"; return 1
  done
}

# The order compose's depends_on gives, started stage by stage: podman 4.3 ignores "service_healthy" and
# fails on the dependency graph podman-compose hands it ("depends on container ... not found in input list").
staged_up() {
  local demo=()
  [ "${1:-}" = --demo ] && { files+=(-f deploy/compose.demo.yml); demo=(demo); }
  compose up -d --no-deps postgres redis objectstore "${demo[@]}"
  healthy postgres redis objectstore "${demo[@]}"
  compose up -d --no-deps airflow-init
  local status
  status=$(podman wait "${project}_airflow-init_1")
  if [ "$status" != 0 ]; then podman logs --tail 40 "${project}_airflow-init_1"; echo "airflow-init failed"; return 1; fi
  compose up -d --no-deps airflow-apiserver airflow-scheduler airflow-dag-processor airflow-triggerer \
    airflow-worker review
  healthy review
  compose up -d --no-deps proxy
  healthy proxy
}

case "${1:-}" in
  build) deploy/images/build-local.sh "${@:2}" ;;
  env) write_env ;;
  up)
    write_env
    staged_up "${2:-}" ;;
  down) write_env; files+=(-f deploy/compose.demo.yml); compose down ;;
  destroy) write_env; files+=(-f deploy/compose.demo.yml); compose down -v ;;
  compose) write_env; files+=(-f deploy/compose.demo.yml); compose "${@:2}" ;;
  *) sed -n '2,11p' "$0"; exit 2 ;;
esac
