"""The container image and the compose trial, checked without a Docker engine (none runs
here or in CI; tests/deploy/test_wheel.py builds and installs the same wheel for real).

The Dockerfile is parsed into instructions and held to what the runbook promises: base
images pinned by digest, a Node stage that fetches Web Chat and a runtime stage with no
Node in it, the wheel built with the client and the model inside and installed at the
locked versions, not root, health on /healthz, data on a volume, and everything the build
needs actually copied and not hidden by .dockerignore.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from typing import Any

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


Instructions = list[tuple[str, str]]
PINNED = re.compile(
    r"^(?P<image>[a-z0-9./-]+):(?P<tag>[\w.-]+)@sha256:[0-9a-f]{64}(?: AS (?P<name>\w+))?$"
)


@dataclass(frozen=True)
class Stage:
    base: str  # the FROM arguments
    name: str  # "" for the last, unnamed stage
    steps: Instructions  # the instructions after FROM


def stages(docker: Instructions) -> list[Stage]:
    found: list[Stage] = []
    for keyword, args in docker:
        if keyword == "FROM":
            name = args.partition(" AS ")[2]
            found.append(Stage(args, name, []))
        else:
            assert found, f"{keyword} before the first FROM"
            found[-1].steps.append((keyword, args))
    return found


@pytest.fixture(scope="module")
def docker() -> Instructions:
    return instructions(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def build(docker: Instructions) -> dict[str, Stage]:
    """The stages by name; the runtime image (the last, unnamed stage) is "runtime"."""
    found = stages(docker)
    assert [s.name for s in found] == ["webchat", "wheel", ""]
    return {"webchat": found[0], "wheel": found[1], "runtime": found[2]}


def all_of(docker: Instructions, keyword: str) -> list[str]:
    return [args for kw, args in docker if kw == keyword]


def test_every_base_image_is_pinned_by_digest(docker: Instructions) -> None:
    for base in all_of(docker, "FROM"):
        assert PINNED.match(base), f"FROM {base}: pin IMAGE:EXACT-TAG@sha256:DIGEST"


def test_the_wheel_is_built_and_run_on_the_same_python_311_slim(
    build: dict[str, Stage],
) -> None:
    wheel, runtime = PINNED.match(build["wheel"].base), PINNED.match(build["runtime"].base)
    assert wheel
    assert runtime
    assert runtime["image"] == "python"
    assert re.fullmatch(r"3\.11\.\d+-slim-\w+", runtime["tag"]), "an exact 3.11 slim tag"
    assert build["wheel"].base.partition(" AS ")[0] == build["runtime"].base


def test_node_is_only_in_the_build_stage_that_fetches_web_chat(
    build: dict[str, Stage],
) -> None:
    webchat = build["webchat"]
    assert webchat.base.startswith("node:")
    assert all_of(webchat.steps, "RUN") == ["bash scripts/fetch-webchat"]
    for name in ("wheel", "runtime"):
        stage = build[name]
        assert not stage.base.startswith("node"), f"the {name} stage is based on Node"
        for run in all_of(stage.steps, "RUN"):
            assert not re.search(r"\b(npm|node|apt-get)\b", run), f"{name}: RUN {run}"
    # The runtime image takes only the built wheels from the build stages.
    runtime_from = [args for args in all_of(build["runtime"].steps, "COPY") if "--from" in args]
    assert runtime_from == ["--from=wheel /wheels /tmp/wheels"]


def test_the_wheel_stage_brings_in_both_downloads_before_it_builds(
    build: dict[str, Stage],
) -> None:
    steps = build["wheel"].steps
    artifacts = wheel_config()["artifacts"]
    position = {args: i for i, (_, args) in enumerate(steps)}
    vendor = "bot/channels/directline/static/vendor"
    copy_vendor = f"--from=webchat /src/{vendor} ./{vendor}"
    assert copy_vendor in position, "the Web Chat client is not copied from its stage"
    assert f"{vendor}/**" in artifacts
    assert "bot/_model/**" in artifacts
    # The Node stage works in /src and the script writes the vendor folder under it.
    assert ("WORKDIR", "/src") in build["webchat"].steps
    assert f"OUT={vendor}\n" in (ROOT / "scripts" / "fetch-webchat").read_text()
    (build_wheel,) = [run for run in all_of(steps, "RUN") if "pip wheel" in run]
    assert position[copy_vendor] < position[build_wheel]
    assert position["bash scripts/fetch-model"] < position[build_wheel]
    assert shlex.split(build_wheel) == [
        *("PIP_CONSTRAINT=requirements.lock", "pip", "wheel", "--no-deps"),
        *("--wheel-dir", "/wheels", "."),
    ]


def test_runs_as_a_user_that_is_not_root(build: dict[str, Stage]) -> None:
    docker = build["runtime"].steps  # what the image itself is made of
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


def test_healthcheck_asks_healthz_with_python(build: dict[str, Stage]) -> None:
    docker = build["runtime"].steps  # what the image itself is made of
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


def test_data_lives_on_the_volume(build: dict[str, Stage]) -> None:
    docker = build["runtime"].steps  # what the image itself is made of
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


def test_serves_the_bot(build: dict[str, Stage]) -> None:
    docker = build["runtime"].steps  # what the image itself is made of
    (cmd,) = all_of(docker, "CMD")
    assert exec_form(cmd) == ["python", "-m", "bot", "serve"]


def test_the_runtime_installs_only_the_wheel_at_the_locked_versions(
    build: dict[str, Stage],
) -> None:
    runtime = build["runtime"]
    commands = [
        shlex.split(command) for run in all_of(runtime.steps, "RUN") for command in run.split("&&")
    ]
    installs = [argv for argv in commands if argv[:2] == ["pip", "install"]]
    assert installs == [
        ["pip", "install", "--constraint", "/tmp/requirements.lock", "/tmp/wheels/*.whl"]
    ]
    assert ["pip", "check"] in commands
    assert "requirements.lock /tmp/" in all_of(runtime.steps, "COPY")
    # Nothing of the source tree: no extras, no editable install, no COPY of bot/.
    assert not [args for args in all_of(runtime.steps, "COPY") if "bot" in args]


def copied_sources(docker: Instructions) -> list[str]:
    """What COPY takes from the build context (not what it takes from another stage)."""
    sources = []
    for args in all_of(docker, "COPY"):
        if "--from=" in args:
            continue
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


def test_everything_copied_is_in_a_clean_checkout(docker: Instructions) -> None:
    tracked = tracked_files()
    for source in copied_sources(docker):
        name = source.rstrip("/")
        assert name in tracked or any(path.startswith(name + "/") for path in tracked), (
            f"COPY {source}: not in git, so a clean checkout cannot build the image"
        )


def wheel_config() -> dict[str, Any]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    config = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert isinstance(config, dict)
    return config


def test_the_build_gets_every_file_the_package_needs(build: dict[str, Stage]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheel = wheel_config()
    needed = {"pyproject.toml", project["project"]["readme"], *wheel["packages"]}
    needed |= set(wheel.get("force-include", {}))  # knowledge/ and the Teams template
    needed |= {hook["path"] for hook in wheel.get("hooks", {}).values()}  # hatch_build.py
    needed.add("requirements.lock")  # PIP_CONSTRAINT of the build backend
    copied = {s.rstrip("/").removeprefix("./") for s in copied_sources(build["wheel"].steps)}
    assert needed <= copied, f"not copied into the wheel stage: {sorted(needed - copied)}"


def ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: a pattern excludes what it matches and everything below it, and the
    last pattern that matches the path or a folder above it decides; `!` re-includes."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.removeprefix("!")
        candidates = [body, body.removeprefix("**/")]
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates) or (
            body.startswith("**/") and any(fnmatch.fnmatchcase(part, body[3:]) for part in parts)
        ):
            excluded = not negated
    return excluded


def test_the_dockerignore_reading_follows_dockers_rules() -> None:
    patterns = ["deploy", "!deploy/teams/manifest.template.json", "**/__pycache__"]
    assert ignored("deploy/README.md", patterns)
    assert not ignored("deploy/teams/manifest.template.json", patterns)
    assert ignored("bot/core/__pycache__", patterns)
    assert not ignored("bot/core/knowledge.py", patterns)


def test_dockerignore_keeps_local_state_out_but_not_the_sources(docker: Instructions) -> None:
    patterns = ignore_patterns()
    for must in (
        ".git",
        ".venv",
        "data",
        ".cache",
        "bot/_model",
        "bot/channels/directline/static/vendor",
    ):
        assert ignored(must, patterns), f"{must} would go into the build context"
    for source in copied_sources(docker):
        name = source.rstrip("/").removeprefix("./")
        assert not ignored(name, patterns), f"COPY {source} is excluded by .dockerignore"


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
