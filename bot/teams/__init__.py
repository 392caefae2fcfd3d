"""The Bot Framework edge: Teams (and web chat, which speaks the same protocol)."""
