# Sourced by scripts/test: makes sure `redis-server` is installed, because the multi-instance tests
# (test/redis.e2e.test.ts) run two gateways against a real Redis on 127.0.0.1. Installs Debian's
# package when the binary is missing and we are root; otherwise says so (those tests then skip
# with a loud message).
if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "switchyard: installing redis-server (for the multi-instance tests)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >&2 \
      || echo "switchyard: could not install redis-server; the Redis tests will be skipped" >&2
  else
    echo "switchyard: redis-server is missing and cannot be installed here (not root or no apt-get); the Redis tests will be skipped" >&2
  fi
fi
