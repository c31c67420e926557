#!/bin/sh
# Image set-up for spacetime-sentinel, run once by deploy/Dockerfile as root:
# - the unprivileged user and group `sentinel` (uid/gid 10001; a fixed number, so Kubernetes'
#   runAsNonRoot can verify it and volume ownership is predictable);
# - /var/lib/sentinel/data (sample store, alert state, notification queue) and
#   /var/lib/sentinel/evidence (drill evidence), owned by that user: the image's volumes;
# - /etc/sentinel, where the configuration is mounted (root-owned, read-only to the daemon);
# - /usr/local/bin/sentinel, the package's bin (which runs the compiled dist/).
#
# ROOT (default: empty, the image itself) prefixes every path, so the script can be tried on a
# scratch tree: ROOT=/tmp/tree sh setup.sh.
set -eu

ROOT="${ROOT:-}"
SENTINEL_UID=10001
SENTINEL_GID=10001
PACKAGE_DIR=/opt/sentinel

prefix_args() {
  if [ -n "$ROOT" ]; then printf '%s\n' "--prefix" "$ROOT"; fi
}

# shellcheck disable=SC2046 # prefix_args prints zero or two words, neither with spaces
groupadd $(prefix_args) --gid "$SENTINEL_GID" sentinel
# shellcheck disable=SC2046
useradd $(prefix_args) --no-log-init --uid "$SENTINEL_UID" --gid "$SENTINEL_GID" \
  --home-dir /var/lib/sentinel --no-create-home --shell /usr/sbin/nologin \
  --comment spacetime-sentinel sentinel

mkdir -p "$ROOT/var/lib/sentinel/data" "$ROOT/var/lib/sentinel/evidence" "$ROOT/etc/sentinel" "$ROOT/usr/local/bin"
chown "$SENTINEL_UID:$SENTINEL_GID" "$ROOT/var/lib/sentinel" "$ROOT/var/lib/sentinel/data" "$ROOT/var/lib/sentinel/evidence"
chmod 0750 "$ROOT/var/lib/sentinel" "$ROOT/var/lib/sentinel/data" "$ROOT/var/lib/sentinel/evidence"
chmod 0755 "$ROOT/etc/sentinel"
ln -sf "$PACKAGE_DIR/bin/sentinel.js" "$ROOT/usr/local/bin/sentinel"
