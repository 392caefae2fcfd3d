"""requirements.lock: one exact version of every dependency pyproject.toml names.

The Dockerfile and scripts/test install with it as constraints, so a dependency the lock
misses would float in the image, and a lock left behind after pyproject.toml changed
would make pip refuse to install. `bash scripts/lock` regenerates it.
"""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT

LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)$")


def locked() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for number, line in enumerate(LOCK.read_text().splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        match = PIN.match(entry)
        assert match, f"requirements.lock line {number}: {entry!r} is not NAME==VERSION"
        name = canonicalize_name(match["name"])
        assert name not in pins, f"requirements.lock pins {name} twice"
        pins[name] = Version(match["version"])
    return pins


def declared() -> list[tuple[str, Requirement]]:
    """(where, requirement) for the server, every extra and the build backend; the dev
    extra's reference to the project itself is only a way to include the train extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    own = canonicalize_name(project["project"]["name"])
    groups = {"dependencies": project["project"]["dependencies"]}
    for extra, requirements in project["project"]["optional-dependencies"].items():
        groups[f"[{extra}]"] = requirements
    groups["build-system"] = project["build-system"]["requires"]
    found = []
    for where, requirements in groups.items():
        for text in requirements:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) != own:
                found.append((where, requirement))
    return found


def problems(pins: dict[str, Version], requirements: list[tuple[str, Requirement]]) -> list[str]:
    found = []
    for where, requirement in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue  # not for this platform or Python
        name = canonicalize_name(requirement.name)
        if name not in pins:
            found.append(f"{requirement} ({where}) is not in requirements.lock")
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            found.append(f"{requirement} ({where}) does not allow the locked {pins[name]}")
    return found


def test_the_lock_pins_every_declared_dependency_within_its_specifier() -> None:
    found = problems(locked(), declared())
    assert not found, "run `bash scripts/lock`:\n  " + "\n  ".join(found)


def test_the_check_sees_a_missing_pin_a_stale_one_and_skips_other_platforms() -> None:
    pins = {"numpy": Version("1.0"), "aiohttp": Version("3.14.5")}
    requirements = [
        ("dependencies", Requirement("numpy>=1.26,<3")),
        ("dependencies", Requirement("PyJWT[crypto]>=2.8")),
        ("dependencies", Requirement("aiohttp>=3.10,<4")),
        ("[dev]", Requirement("pywin32>=300; sys_platform == 'win32'")),
    ]
    assert problems(pins, requirements) == [
        "numpy<3,>=1.26 (dependencies) does not allow the locked 1.0",
        "PyJWT[crypto]>=2.8 (dependencies) is not in requirements.lock",
    ]


def test_the_lock_says_how_it_is_made_and_holds_no_local_paths() -> None:
    text = LOCK.read_text()
    assert "bash scripts/lock" in text
    assert "file://" not in text
    assert " @ " not in text  # no direct references: every pin comes from the index
