"""Admin pages of the scheduler and digest: job runs, mail failures, any user's digest preview."""
