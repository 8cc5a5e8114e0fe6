#!/usr/bin/env bash
# Installs the system packages kubesim needs on a fresh Debian/Ubuntu machine.
#   --python  what creating the virtualenv needs (python3-venv)
#   --test    what the test suite drives for real (etcd-server)
# Packages already present are left alone, so re-running costs nothing.
set -euo pipefail

want=()
case "${1:-}" in
  --python)
    python3 -c 'import venv, ensurepip' 2>/dev/null || want+=(python3-venv)
    ;;
  --test)
    command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ] || want+=(etcd-server)
    ;;
  *)
    echo "usage: $0 --python|--test" >&2
    exit 2
    ;;
esac

[ ${#want[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "installing system packages: ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
# Debian starts the packaged etcd as a service on the default ports; the tests start
# their own on free ports, so the packaged one is stopped to leave the machine as it was.
if [[ " ${want[*]} " == *" etcd-server "* ]] && command -v systemctl >/dev/null 2>&1; then
  $sudo systemctl disable --now etcd >/dev/null 2>&1 || true
fi
