"""``python -m bench.search``: the embedded engine beside tantivy and SQLite FTS5."""

from bench.search.compare import main

main()
