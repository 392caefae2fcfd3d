"""The text channel: the same dialogue as Teams and web chat, its cards rendered as text.

render (Adaptive Card → text, buttons as numbered choices) · channel (typed text and
numbers → `Dialogue` calls, `Reply`s → text) · connector (the terminal conversation's
Bot Connector, where escalation's cards arrive) · setup (the app for one person at a
terminal) · terminal (`python -m bot chat`: keys, pastes, readline, Ctrl-C).
"""
