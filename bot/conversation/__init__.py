"""The channel-neutral conversation: who is talking, what they said, what the bot replies.

Channels (bot/channels/) translate their wire formats into calls on `Dialogue` and render
its `Reply`s; escalation depends on this package only, never on a channel or an SDK.
"""
