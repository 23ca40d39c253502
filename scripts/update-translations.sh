#!/usr/bin/env bash
# Re-extract every translatable string and merge new ones into the English catalog.
# Then translate the new (empty or fuzzy) entries in
# market/translations/en/LC_MESSAGES/messages.po and run scripts/compile-translations.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
CATALOG=market/translations/en/LC_MESSAGES/messages.po

"$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext --sort-by-file \
  --project="park-market" --copyright-holder="park-market" \
  -o market/translations/messages.pot .
if [[ -f "$CATALOG" ]]; then
  "$PYBABEL" update -i market/translations/messages.pot -d market/translations -l en --ignore-obsolete --no-fuzzy-matching
else
  "$PYBABEL" init -i market/translations/messages.pot -d market/translations -l en
fi
