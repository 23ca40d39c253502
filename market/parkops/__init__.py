"""Park operations: dashboards, the industrial-chain map, invitations, campaign reports."""
