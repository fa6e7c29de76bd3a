#!/usr/bin/env bash
# Make Chromium available for the browser tests: Debian's package, installed as root.
# Without root or apt it warns loudly; the tests then skip, except under CI=true where a
# missing browser fails them.
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null; }
  command -v chromium >/dev/null 2>&1 && exit 0
fi
echo "################################################################################"
echo "# WARNING: Chromium is not installed and could not be installed here.          #"
echo "# The browser tests will be SKIPPED (install Debian's 'chromium' to run them).  #"
echo "################################################################################"
exit 0
