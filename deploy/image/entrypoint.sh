#!/bin/sh
# Entrypoint of the spacetime-sentinel image. tini runs it as PID 1's child; it execs the
# sentinel, so SIGTERM from the runtime reaches the daemon, which stops within
# server.shutdown_timeout.
#
# - Secrets as files: for each SENTINEL_NAME_FILE=PATH in the environment, SENTINEL_NAME is set to
#   the file's content (a mounted Kubernetes or Secret Manager secret), so the configuration's
#   ${SENTINEL_NAME} references work whether a secret arrives as a variable or as a file.
#   (The configuration can also read a file itself: ${file:/path}.)
# - Arguments: none runs `sentinel run`; arguments starting with an option or a sentinel
#   command run `sentinel ARGS`; a program on PATH runs as given (`docker run IMAGE sh`).
set -eu

fail() {
  printf 'sentinel-entrypoint: %s\n' "$1" >&2
  exit 2
}

for var in $(env | sed -n 's/^\(SENTINEL_[A-Z0-9_]*\)_FILE=.*/\1/p'); do
  file=$(printenv "${var}_FILE") || continue
  if printenv "$var" >/dev/null; then
    fail "both $var and ${var}_FILE are set; set only one of them"
  fi
  if [ ! -f "$file" ] || [ ! -r "$file" ]; then
    fail "${var}_FILE names $file, which is not a readable file; mount the secret there or unset ${var}_FILE"
  fi
  value=$(cat "$file")
  export "$var=$value"
  unset "${var}_FILE"
done

if [ "$#" -eq 0 ]; then
  set -- run
fi
case "$1" in
  sentinel) ;;
  -*) set -- sentinel "$@" ;;
  *) command -v "$1" >/dev/null 2>&1 || set -- sentinel "$@" ;;
esac
exec "$@"
