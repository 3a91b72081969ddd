#!/usr/bin/env bash
# Makes sure the real programs vouch is tested against are installed, and that the database
# servers the backend tests use are running. Safe to run again: it does nothing when all is there.
set -euo pipefail

need=()
for pair in notary:notary notary-server:notary notary-signer:notary docker-registry:docker-registry \
            skopeo:skopeo openssl:openssl wrk:wrk nginx:nginx-light; do
  cmd=${pair%%:*}; pkg=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
[ -d /usr/share/gocode/src/github.com/theupdateframework/notary/fixtures ] || need+=(golang-github-docker-notary-dev)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "installing Debian packages: ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# PostgreSQL and MariaDB: start them when they are installed but down.
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >/dev/null 2>&1 || true
fi
if command -v mariadbd >/dev/null 2>&1 && ! mysqladmin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null 2>&1 || true
fi
exit 0
