"""Certificate content guards (X.509 and Red Hat entitlement certificates), a Pulp plugin."""
