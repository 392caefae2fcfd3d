"""What `/chat` says without the Web Chat client: advice that fits where it runs."""

from __future__ import annotations

from pathlib import Path

from bot.channels.directline.page import STATIC, missing_client_page
from tests.conftest import ROOT


def test_the_page_looks_for_the_project_above_the_bot_package() -> None:
    assert STATIC.parents[3] == ROOT


def test_in_a_checkout_it_names_the_script_to_run(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "fetch-webchat").write_text("#!/bin/sh\n")
    page = missing_client_page(tmp_path)
    assert "Run <code>bash scripts/fetch-webchat</code> in the project folder" in page
    assert "built wrongly" not in page


def test_in_an_installed_package_it_says_the_build_was_wrong(tmp_path: Path) -> None:
    # site-packages: no scripts/ beside the bot package, so no script to run here.
    page = missing_client_page(tmp_path)
    assert "built without it, so it was built wrongly" in page
    assert "in the project folder, then reload" not in page
    assert "Dockerfile" in page
