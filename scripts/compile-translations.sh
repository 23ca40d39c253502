#!/usr/bin/env bash
# Compiles the gettext catalogues (market/translations/*/LC_MESSAGES/*.po → .mo).
# The .mo files are build products (git-ignored); having no catalogue yet is fine.
set -euo pipefail

pybabel=${PYBABEL:-.venv/bin/pybabel}
if find market/translations -name '*.po' -print -quit 2>/dev/null | grep -q .; then
  "$pybabel" -q compile -d market/translations
else
  echo "no translation catalogues yet; skipping pybabel compile"
fi
