#!/usr/bin/env bash
# The one pipeline that GitHub Actions, GitLab CI and Jenkins run, so that the three cannot drift.
# On a Debian image with Node.js 20.19+ (node:20.19.0-bookworm in all three):
#   deploy/ci/pipeline.sh test   Chromium and nginx from Debian where missing, npm ci, then the README's test command
#   deploy/ci/pipeline.sh site   the static site in dist/ (npm run build), the pipelines' artifact
set -euo pipefail
cd "$(dirname "$0")/../.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

debian_packages() {
  command -v chromium >/dev/null && command -v nginx >/dev/null && return 0
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium nginx >/dev/null
}

case "${1:-}" in
  test)
    debian_packages
    npm ci --no-audit --no-fund
    npm test
    ;;
  site)
    [ -d node_modules ] || npm ci --no-audit --no-fund
    npm run build
    ;;
  *)
    echo "usage: deploy/ci/pipeline.sh test|site" >&2
    exit 2
    ;;
esac
