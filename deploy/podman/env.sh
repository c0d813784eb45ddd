# Source me: podman with this project's settings (runc, explicit ulimits), whatever the working folder.
export CONTAINERS_CONF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containers.conf"
