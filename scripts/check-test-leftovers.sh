#!/usr/bin/env bash
# After the suite: nothing of a test run may remain under /var/tmp, and no test PostgreSQL or SeaweedFS may
# still run.
# (CI starts from a clean machine, so anything found here was left by this run.)
set -euo pipefail
left=$(ls -d /var/tmp/wildwatch-test-* 2>/dev/null || true)
servers=$(pgrep -af 'postgres.* -D /var/tmp/wildwatch-test-|weed server .*-dir=/var/tmp/wildwatch-test-' || true)
if [ -n "$left" ] || [ -n "$servers" ]; then
  echo "the test run left these behind:" >&2
  [ -n "$left" ] && echo "$left" >&2
  [ -n "$servers" ] && echo "$servers" >&2
  exit 1
fi
echo "no test folders or servers left behind"
