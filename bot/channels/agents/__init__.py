"""Teams and web chat over the Bot Framework protocol, on the Microsoft 365 Agents SDK
(microsoft-agents-hosting-aiohttp 1.x), botbuilder-python's successor. `BOT_SDK=agents`.

auth (outbound tokens, the channel's JWTs and signing keys) · handler (activities → the
shared Turns) · endpoint (/api/messages) · setup (the channel as the app mounts it). What
both SDK channels share is in bot/channels/activity_protocol.
"""
