from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import Adviser

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"


@pytest.fixture(scope="session")
def adviser() -> Adviser:
    return Adviser.from_directory(KNOWLEDGE)
