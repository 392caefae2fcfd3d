"""The built wheel, as the container image and any other install gets it.

The wheel is built once per session from this checkout (hatchling from the dev extra, no
isolated build env, so no network), then installed into a fresh venv in a temp folder
with the source tree out of reach: cwd elsewhere, no PYTHONPATH, no pip config. There it
must serve /chat and the Web Chat bundle, answer a question (knowledge and model inside
the wheel) and build the Teams app package.

Where the installed venv's dependencies come from: build/wheelhouse, which scripts/test
fills (at the versions in requirements.lock) before pytest runs, and pip installs with
--no-index. Installing from PyPI here would be network inside a test. Reusing the dev
venv's site-packages through a .pth would be quicker but dishonest twice over: that venv
holds the project as an editable install whose finder points back into the checkout, and
it would not show that the wheel's own metadata brings in what the server needs. With
--no-index pip has to resolve the wheel's Requires-Dist from the wheelhouse alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from bot.packaging.manifest import ManifestValues, render_manifest
from bot.settings import Settings
from tests.conftest import ROOT

WHEELHOUSE = ROOT / "build" / "wheelhouse"
LOCK = ROOT / "requirements.lock"
CLIENT = ROOT / "bot" / "channels" / "directline" / "static" / "vendor" / "webchat.js"
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
HOST = "adviser.example.org"
SETTING_NAMES = {name for name, _, _ in Settings.describe()}


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that points at the checkout or
    configures the bot or pip: an installed package must work on defaults."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SETTING_NAMES
        and not key.startswith(("PYTHON", "PIP_", "BOT_", "Microsoft", "VIRTUAL_ENV"))
    }
    # The machine's pip config names local indexes and constraints; none of it applies.
    env |= {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return env | extra


def run(argv: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{argv[:4]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def wheel_build(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"),
            *("--no-index", "--wheel-dir", str(out), str(source)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=clean_env(),
    )


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = wheel_build(ROOT, out)
    assert done.returncode == 0, f"the wheel did not build:\n{done.stdout}\n{done.stderr}"
    (wheel,) = out.glob("*.whl")
    return wheel


def test_the_wheel_carries_everything_the_server_serves(built_wheel: Path) -> None:
    names = set(zipfile.ZipFile(built_wheel).namelist())
    for needed in (
        "bot/channels/directline/static/chat.html",
        "bot/channels/directline/static/vendor/webchat.js",
        "bot/channels/directline/static/vendor/VERSION",
        "bot/_model/all-minilm-l6-v2/model.safetensors",
        "bot/_model/all-minilm-l6-v2/tokenizer.json",
        "bot/_knowledge/clauses.md",
        "bot/packaging/manifest.template.json",
    ):
        assert needed in names, f"{needed} is not in {built_wheel.name}"
    assert not any(name.startswith(("tests/", "knowledge/", "deploy/")) for name in names)


def test_a_wheel_build_without_the_downloads_stops_and_says_what_to_run(
    tmp_path: Path,
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "hatch_build.py"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "knowledge", source / "knowledge")
    (source / "deploy" / "teams").mkdir(parents=True)
    shutil.copy(ROOT / "deploy/teams/manifest.template.json", source / "deploy/teams")
    # The bot package as a fresh clone has it: without the two git-ignored downloads.
    shutil.copytree(
        ROOT / "bot",
        source / "bot",
        ignore=shutil.ignore_patterns("_model", "vendor", "__pycache__"),
    )
    done = wheel_build(source, tmp_path / "out")
    assert done.returncode != 0
    output = done.stdout + done.stderr
    client = "bot/channels/directline/static/vendor/webchat.js"
    assert f"{client} is missing: run `bash scripts/fetch-webchat`" in output
    assert "bot/_model/all-minilm-l6-v2/model.safetensors is missing" in output
    assert not list((tmp_path / "out").glob("*.whl"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # only 127.0.0.1
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120  # a cold start loads the model from the new venv
    while time.monotonic() < deadline:
        assert process.poll() is None, "the installed server exited during start-up"
        try:
            if get(f"{url}/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the installed server never became healthy")


@pytest.mark.e2e
def test_the_installed_wheel_serves_chat_and_builds_the_teams_package(
    built_wheel: Path, tmp_path: Path
) -> None:
    if not WHEELHOUSE.is_dir():
        message = f"{WHEELHOUSE} is missing: bash scripts/test fills it before pytest"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    elsewhere = tmp_path / "elsewhere"  # the cwd of everything below: not the checkout
    elsewhere.mkdir()
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    env = clean_env(HOME=str(elsewhere))
    run([sys.executable, "-m", "venv", venv], elsewhere, env)
    run(
        [
            *(python, "-m", "pip", "install", "--quiet", "--no-index"),
            *("--find-links", WHEELHOUSE, "--constraint", LOCK, built_wheel),
        ],
        elsewhere,
        env,
    )
    run([python, "-m", "pip", "check"], elsewhere, env)
    where = run([python, "-c", "import bot; print(bot.__file__)"], elsewhere, env).strip()
    assert Path(where).is_relative_to(venv), f"bot imported from {where}, not the venv"

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server_env = env | {
        "BOT_HOST": "127.0.0.1",
        "PORT": str(port),
        "BOT_DATABASE_PATH": str(tmp_path / "adviser.sqlite3"),
        "BOT_LOG_FORMAT": "json",
    }
    server = subprocess.Popen(
        [str(python), "-m", "bot", "serve"],
        cwd=elsewhere,
        env=server_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_healthy(url, server)
        status, page = get(f"{url}/chat")
        assert status == 200, page.decode(errors="replace")
        assert b'src="/chat/static/vendor/webchat.js"' in page
        status, bundle = get(f"{url}/chat/static/vendor/webchat.js")
        assert status == 200
        assert hashlib.sha256(bundle).hexdigest() == hashlib.sha256(CLIENT.read_bytes()).hexdigest()
        # A question answered: the knowledge and the model inside the wheel both work.
        question = "Can I post a selfie at my desk?"
        run([python, "-m", "bot", "poke", "--url", url, question], elsewhere, env)
    finally:
        server.terminate()
        logs, _ = server.communicate(timeout=30)
    assert server.returncode == 0, logs
    assert "advice.given" in logs
    assert "webchat.client_missing" not in logs

    out = tmp_path / "teams-app.zip"
    run(
        [python, "-m", "bot", "package", "--app-id", APP_ID, "--host", HOST, "--out", out],
        elsewhere,
        env,
    )
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
    # The template packed into the wheel is the checkout's, filled the same way.
    assert manifest == render_manifest(ManifestValues(app_id=APP_ID, host=HOST))
