#!/usr/bin/env bash
# Installs the Debian packages skillcert needs, skipping what is already there.
# Run as root (CI and the development machines are root); prints one line per action.
set -euo pipefail

# package -> a file it provides, so a present package costs one stat, not an apt call
declare -A probe=(
  [chromium]=/usr/bin/chromium
  [fonts-lxgw-wenkai]=/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf
  [fonts-liberation2]=/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf
  # the demo seals' face (fonts/fonts.json role "seal"): Noto Serif CJK SC Bold, a Song face as seals use
  [fonts-noto-cjk]=/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc
  [poppler-utils]=/usr/bin/pdfsig
  [qpdf]=/usr/bin/qpdf
  [zbar-tools]=/usr/bin/zbarimg
  [mupdf-tools]=/usr/bin/mutool
  [openssl]=/usr/bin/openssl
  [libnss3-tools]=/usr/bin/certutil
  [sqlite3]=/usr/bin/sqlite3
  # the shared registry's tests start their own PostgreSQL server (test/helpers/postgres.ts); Debian 12 ships 15
  [postgresql]=/usr/lib/postgresql/15/bin/initdb
)
missing=()
for pkg in "${!probe[@]}"; do
  [ -e "${probe[$pkg]}" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all system packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-system: missing ${missing[*]}; run this script as root (sudo $0)" >&2
  exit 1
fi
echo "setup-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fc-cache -f >/dev/null 2>&1 || true
echo "setup-system: done"
