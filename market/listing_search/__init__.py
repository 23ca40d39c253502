"""The search page for offerings and needs, and its as-you-type suggestions."""
