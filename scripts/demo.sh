#!/usr/bin/env bash
# Creates (or upgrades) the database in $MARKET_INSTANCE, imports the demo data set,
# prints the demo sign-ins and serves the site on http://127.0.0.1:5000.
# Re-importing is safe: `market import` updates records in place by ref.
set -euo pipefail

export MARKET_INSTANCE=${MARKET_INSTANCE:-$PWD/instance}
bin=${VENV_BIN:-.venv/bin}
demo=seed_data/demo

if [[ ! -f "$demo/parks.json" ]]; then
  echo "error: the demo data set $demo is missing" >&2
  exit 1
fi

"$bin/market" init
"$bin/market" import "$demo"

if [[ -f "$demo/users.json" ]]; then
  echo
  echo "Demo sign-ins (password for all: demo12345):"
  "$bin/python" - "$demo" <<'PY'
import json
import sys
from pathlib import Path

demo = Path(sys.argv[1])
users = json.loads((demo / "users.json").read_text(encoding="utf-8"))
orgs = {o["ref"]: o["name"] for o in json.loads((demo / "organizations.json").read_text(encoding="utf-8"))}
width = max((len(u["email"]) for u in users), default=0)
for user in users:
    role = user.get("role", "member")
    print(f"  {user['email']:<{width}}  {role:<10}  {user.get('name', '')}  {orgs.get(user.get('org'), '')}")
PY
  echo
fi

exec "$bin/market" serve
