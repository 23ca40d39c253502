"""Business rules. Views call these; these raise the exceptions in ``errors``."""
