"""The container image and the compose trial, checked without a Docker engine.

The Dockerfile is parsed into instructions and held to what the runbook promises:
not root, health on /healthz, data on a volume, the project installed from source with
everything its build needs actually copied and not hidden by .dockerignore.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import tomllib

import pytest
import yaml

from bot.settings import Settings
from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "deploy" / "compose.yaml"
SETTING_NAMES = {name for name, _, _ in Settings.describe()}
RUNTIME_NAMES = {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR"}
RUNTIME_NAMES |= {"PIP_DISABLE_PIP_VERSION_CHECK", "OPENBLAS_NUM_THREADS"}


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction: comments dropped, continuations joined."""
    result: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        result.append((keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return result


def exec_form(args: str) -> list[str]:
    parsed = json.loads(args)
    assert isinstance(parsed, list)
    return [str(a) for a in parsed]


def env_pairs(args: str) -> dict[str, str]:
    pairs = {}
    for token in shlex.split(args):
        name, eq, value = token.partition("=")
        assert eq, f"ENV {token!r}: use NAME=value"
        pairs[name] = value
    return pairs


@pytest.fixture(scope="module")
def docker() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def all_of(docker: list[tuple[str, str]], keyword: str) -> list[str]:
    return [args for kw, args in docker if kw == keyword]


def test_base_image_is_python_311_slim(docker: list[tuple[str, str]]) -> None:
    assert docker[0] == ("FROM", "python:3.11-slim")


def test_runs_as_a_user_that_is_not_root(docker: list[tuple[str, str]]) -> None:
    users = all_of(docker, "USER")
    assert users, "no USER: the server would run as root"
    user, _, group = users[-1].partition(":")
    assert user not in ("root", "0")
    assert group not in ("root", "0")
    # Nothing runs after USER that would need root (RUN after USER runs as that user).
    last_user = max(i for i, (kw, _) in enumerate(docker) if kw == "USER")
    assert all(kw != "RUN" for kw, _ in docker[last_user:])
    # The user is created, and owns the data directory.
    run = " ".join(all_of(docker, "RUN"))
    assert re.search(rf"useradd\b.*--uid {user}\b", run)
    assert "chown adviser:adviser /data" in run


def test_healthcheck_asks_healthz_with_python(docker: list[tuple[str, str]]) -> None:
    (check,) = all_of(docker, "HEALTHCHECK")
    options, _, command = check.partition("CMD ")
    assert "--interval=" in options
    argv = exec_form(command)
    assert argv[:2] == ["python", "-c"]
    assert "urllib.request.urlopen('http://127.0.0.1:'" in argv[2]
    assert "/healthz" in argv[2]
    assert "curl" not in check
    assert "wget" not in check
    compile(argv[2], "HEALTHCHECK", "exec")  # the one-liner is valid Python


def test_data_lives_on_the_volume(docker: list[tuple[str, str]]) -> None:
    assert all_of(docker, "VOLUME") == ["/data"]
    env: dict[str, str] = {}
    for args in all_of(docker, "ENV"):
        env |= env_pairs(args)
    assert env["BOT_DATABASE_PATH"] == "/data/adviser.sqlite3"
    assert env["BOT_HOST"] == "0.0.0.0"
    assert env["BOT_LOG_FORMAT"] == "json"
    assert env["PORT"] == "3978"
    assert all_of(docker, "EXPOSE") == ["3978"]
    unknown = set(env) - SETTING_NAMES - RUNTIME_NAMES
    assert not unknown, f"ENV names that are not settings: {sorted(unknown)}"


def test_serves_the_bot(docker: list[tuple[str, str]]) -> None:
    (cmd,) = all_of(docker, "CMD")
    assert exec_form(cmd) == ["python", "-m", "bot", "serve"]


def test_installs_the_project_itself_without_dev_extras(docker: list[tuple[str, str]]) -> None:
    installs = [
        shlex.split(command)
        for run in all_of(docker, "RUN")
        for command in run.split("&&")
        if "pip install" in command
    ]
    assert installs == [["pip", "install", "."]]


def copied_sources(docker: list[tuple[str, str]]) -> list[str]:
    sources = []
    for args in all_of(docker, "COPY"):
        parts = [p for p in shlex.split(args) if not p.startswith("--")]
        sources += parts[:-1]
    return sources


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.splitlines()


def test_everything_copied_is_in_a_clean_checkout(docker: list[tuple[str, str]]) -> None:
    tracked = tracked_files()
    for source in copied_sources(docker):
        name = source.rstrip("/")
        assert name in tracked or any(path.startswith(name + "/") for path in tracked), (
            f"COPY {source}: not in git, so a clean checkout cannot build the image"
        )


def test_the_build_gets_every_file_the_package_needs(docker: list[tuple[str, str]]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {"pyproject.toml", project["project"]["readme"], *wheel["packages"]}
    needed |= set(wheel.get("force-include", {}))  # knowledge/ rides inside the wheel
    copied = {s.rstrip("/").removeprefix("./") for s in copied_sources(docker)}
    assert needed <= copied, f"not copied into the image: {sorted(needed - copied)}"


def ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dockerignore_keeps_local_state_out_but_not_the_sources(
    docker: list[tuple[str, str]],
) -> None:
    patterns = ignore_patterns()
    for must in (".git", ".venv", "data"):
        assert must in patterns
    for source in copied_sources(docker):
        name = source.rstrip("/").removeprefix("./")
        hidden = [p for p in patterns if fnmatch.fnmatch(name, p.removeprefix("**/"))]
        assert not hidden, f"COPY {source} is excluded by .dockerignore {hidden}"


# --- compose ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, object]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_builds_this_dockerfile_from_the_repo_root(compose: dict[str, object]) -> None:
    service = compose["services"]["adviser"]  # type: ignore[index]
    context = (COMPOSE.parent / service["build"]["context"]).resolve()
    assert context == ROOT.resolve()
    assert (context / service["build"]["dockerfile"]).resolve() == DOCKERFILE.resolve()


def test_compose_keeps_data_on_a_named_volume(compose: dict[str, object]) -> None:
    service = compose["services"]["adviser"]  # type: ignore[index]
    mounts = [m.split(":") for m in service["volumes"]]
    assert [target for _, target in mounts] == ["/data"]
    assert mounts[0][0] in compose["volumes"]  # type: ignore[operator]
    assert service["environment"]["BOT_DATABASE_PATH"].startswith("/data/")


def test_compose_publishes_3978_on_localhost_only(compose: dict[str, object]) -> None:
    service = compose["services"]["adviser"]  # type: ignore[index]
    assert service["ports"] == ["127.0.0.1:3978:3978"]


def test_compose_env_file_is_optional_and_settings_are_real(compose: dict[str, object]) -> None:
    service = compose["services"]["adviser"]  # type: ignore[index]
    assert all(entry["required"] is False for entry in service["env_file"])
    assert set(service["environment"]) <= SETTING_NAMES
