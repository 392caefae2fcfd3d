"""Teams and web chat over the Bot Framework protocol, on botbuilder-python 4.17.

auth (tokens, credentials, signing keys) · handler (activities → the shared Turns) ·
endpoint (/api/messages) · setup (the channel as the app mounts it). What both SDK
channels share is in bot/channels/activity_protocol.
"""
