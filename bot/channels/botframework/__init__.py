"""Teams and web chat over the Bot Framework protocol, on botbuilder-python.

auth (tokens, credentials, signing keys) · activities (activity → Person) · handler
(activities → Dialogue) · outbound (Replies → Bot Connector) · endpoint (/api/messages) ·
setup (mounting it on the app).
"""
