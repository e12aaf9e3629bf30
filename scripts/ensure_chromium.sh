#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests. `make test` runs this first.
# Playwright drives this system browser through `executable_path`, so `playwright install`
# (which downloads its own browser builds) is never needed.
set -euo pipefail

readonly CHROMIUM=/usr/bin/chromium

# A small Chinese font and an emoji font, so the lesson's original wording and the cards' icons
# render in screenshots instead of boxes.
readonly FONTS=(/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
                /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf)

if [ -x "$CHROMIUM" ] && [ -f "${FONTS[0]}" ] && [ -f "${FONTS[1]}" ]; then
  exit 0  # the common case: already installed, stay silent and fast
fi

fail() {
  echo "ensure_chromium: $*" >&2
  echo "ensure_chromium: install it yourself with: sudo apt-get install -y chromium" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "$CHROMIUM is missing and apt-get is not available"

sudo_cmd=()
if [ "$(id -u)" != "0" ]; then
  # A developer machine: ask for sudo only if it works without a password prompt.
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
  else
    fail "$CHROMIUM is missing and installing it needs root (no passwordless sudo)"
  fi
fi

echo "ensure_chromium: installing Debian's chromium and fonts for the browser tests (one time)..."
log="$(mktemp -t ensure-chromium.XXXXXX.log)"
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo_cmd[@]}" apt-get update -qq \
       && "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium \
            fonts-wqy-microhei fonts-noto-color-emoji; } >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  fail "apt-get could not install chromium (full log: $log)"
fi
rm -f "$log"

[ -x "$CHROMIUM" ] || fail "apt-get finished but $CHROMIUM is still missing"
echo "ensure_chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed"
