"""The rule-based matcher: plain Python, no Flask and no ``market`` imports.

It takes needs, offerings and organizations as plain data plus a candidate source
and returns ranked pairs with scores and readable reasons (see ARCHITECTURE.md).
"""
