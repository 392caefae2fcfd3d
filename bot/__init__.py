"""Social media policy adviser for Scottish Parliament staff.

`bot.core` is the pure-Python advice engine; everything else adapts it to an edge
(Teams, web chat, Graph, the ticket store, the command line).
"""

__version__ = "0.1.0"
