#!/usr/bin/env bash
# Installs the Debian packages the browser tests and the pages need, only if missing:
# chromium (driven by Playwright at /usr/bin/chromium; Playwright's own browser
# download cannot reach the internet here), fonts-noto-cjk (Chinese glyphs in
# screenshots), wrk (the load benchmark's HTTP driver), npm (installs axe-core for
# the accessibility tests) and poppler-utils (pdftotext/pdffonts/pdftoppm: the catalogue's
# PDF tests). Runs apt-get update only when something has to be installed.
set -euo pipefail

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v wrk >/dev/null || missing+=(wrk)
command -v npm >/dev/null || missing+=(npm)
if ! dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed"; then
  missing+=(fonts-noto-cjk)
fi
command -v pdftotext >/dev/null || missing+=(poppler-utils)
if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "error: missing Debian packages ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
