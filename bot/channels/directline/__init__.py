"""Direct Line for local mode: a stand-in for the Direct Line 3.0 service and the `/chat`
page that talks to it, so the real Web Chat client reaches the bot on one machine."""
