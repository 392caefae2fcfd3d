"""The advice engine. Pure Python: never imports a Bot SDK, aiohttp or msal."""

from bot.core.adviser import Adviser
from bot.core.knowledge import KnowledgeError, coverage, default_knowledge_dir, load_knowledge
from bot.core.types import (
    MAX_CHARS,
    Advice,
    Alternative,
    Band,
    Clause,
    Entry,
    Knowledge,
    Route,
    Verdict,
)

__all__ = [
    "MAX_CHARS",
    "Advice",
    "Adviser",
    "Alternative",
    "Band",
    "Clause",
    "Entry",
    "Knowledge",
    "KnowledgeError",
    "Route",
    "Verdict",
    "coverage",
    "default_knowledge_dir",
    "load_knowledge",
]
