"""What both Bot SDK channels share: the Bot Framework activity protocol as plain JSON.

Each SDK (botbuilder in bot/channels/botframework, the Microsoft 365 Agents SDK in
bot/channels/agents) parses, authenticates and routes activities its own way, then hands
the activity here as its JSON dict. From there on nothing depends on the SDK:

activities (activity → Person) · turns (activities → Dialogue calls) · outbound (Replies →
Bot Connector) · tokens (the bot's outbound tokens) · requests (the HTTP checks before an
SDK sees a request) · setup (choosing the SDK with `BOT_SDK`, mounting it on the app).
"""
