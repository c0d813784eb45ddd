#!/usr/bin/env bash
# The stack's one-off init (compose service airflow-init): wait for PostgreSQL and the object store (an
# engine that does not honour "service_healthy", like podman before 4.6, starts this at once), then the
# schemas, the evidence bucket and one Airflow pool per site. Safe to run again (after an upgrade, a new site).
set -euo pipefail
retry() {  # what, command...: up to 3 minutes
  local what=$1; shift
  for _ in $(seq 90); do "$@" >/tmp/init.out 2>&1 && return 0; sleep 2; done
  echo "gave up waiting for $what:"; tail -5 /tmp/init.out; return 1
}
retry "PostgreSQL" airflow db check
airflow db migrate
wildwatch db migrate
retry "the object store" wildwatch evidence init
wildwatch evidence init
wildwatch pools sync
