"""Microsoft Graph edge: app-only tokens and the few calls escalation needs."""
