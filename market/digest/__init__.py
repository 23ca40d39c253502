"""The weekly digest for users: preferences, unsubscribe links, renewing a listing by mail link."""
