"""The Teams app package: manifest valid against the official v1.17 schema, zip layout,
argument checks, and icons that meet Teams' rules (sizes, white-on-transparent outline)."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest

from bot.conversation.dialogue import COMMANDS, DCCT_COMMANDS
from bot.escalation import activity_feed
from bot.packaging import icons
from bot.packaging.manifest import (
    TEMPLATE,
    ManifestValues,
    PackageError,
    build_package,
    render_manifest,
)
from tests.conftest import ROOT

SCHEMA = ROOT / "tests" / "data" / "schemas" / "teams-manifest-1.17.json"
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
HOST = "adviser.example.org"
GOOD = ManifestValues(
    app_id=APP_ID,
    host=HOST,
    version="1.2.3",
    privacy_url="https://intranet.example.org/privacy",
    terms_url="https://intranet.example.org/terms",
)


def validate(manifest: dict[str, object]) -> None:
    schema = json.loads(SCHEMA.read_text())
    # The schema says draft-04 but uses `const` (draft-06+) for manifestVersion; draft 7
    # enforces it and reads every other keyword in this schema the same way.
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(manifest)


# --- manifest ------------------------------------------------------------------------


def test_rendered_manifest_validates_against_the_official_schema() -> None:
    manifest = render_manifest(GOOD)
    validate(manifest)
    assert manifest["manifestVersion"] == "1.17"
    assert manifest["$schema"].endswith("/teams/v1.17/MicrosoftTeams.schema.json")


def test_schema_check_is_real() -> None:
    manifest = render_manifest(GOOD)
    manifest["manifestVersion"] = "1.16"
    with pytest.raises(jsonschema.ValidationError):
        validate(manifest)


def test_values_land_where_teams_reads_them() -> None:
    manifest = render_manifest(GOOD)
    assert manifest["id"] == APP_ID
    assert manifest["version"] == "1.2.3"
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"personal", "team"}
    assert bot["supportsFiles"] is False
    assert bot["isNotificationOnly"] is False
    assert manifest["validDomains"] == [HOST]
    assert manifest["webApplicationInfo"] == {"id": APP_ID, "resource": f"api://{HOST}/{APP_ID}"}
    # The schema caps developer.name at 32 characters; the full name is in the description.
    assert manifest["developer"]["name"] == "Scottish Parliament (SPCB)"
    assert "Scottish Parliamentary Corporate Body" in manifest["description"]["full"]
    assert manifest["developer"]["privacyUrl"] == "https://intranet.example.org/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://intranet.example.org/terms"
    assert manifest["name"] == {"short": "Policy adviser", "full": "Social media policy adviser"}
    assert manifest["accentColor"] == "#5C2D91"
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert "{{" not in json.dumps(manifest)


def test_privacy_and_terms_default_to_the_website() -> None:
    manifest = render_manifest(ManifestValues(app_id=APP_ID, host=HOST))
    developer = manifest["developer"]
    assert developer["privacyUrl"] == developer["termsOfUseUrl"] == developer["websiteUrl"]


def test_descriptions_say_what_the_bot_is_and_is_not_for() -> None:
    description = render_manifest(GOOD)["description"]
    full = description["full"]
    assert "personal" in description["short"]
    for point in ("Social Media policy", "clauses", "line manager", "DCCT"):
        assert point in full
    assert "NOT HR or legal advice" in full
    assert "not for official Parliament accounts" in full


def test_activity_types_are_the_ones_the_bot_sends_with_the_parameters_it_fills() -> None:
    manifest = render_manifest(GOOD)
    declared = {a["type"]: a for a in manifest["activities"]["activityTypes"]}
    assert set(declared) == {activity_feed.REQUEST, activity_feed.REMINDER}
    # Graph fills {actor} (the app's name); the bot sends every other variable, no more.
    sent = {"asker", "request"}
    for activity in declared.values():
        variables = set(re.findall(r"\{(\w+)\}", activity["templateText"]))
        assert variables == {"actor"} | sent, activity
        assert activity["description"]
    # Activity feed notifications need the app's Entra id in webApplicationInfo.
    assert manifest["webApplicationInfo"]["id"] == APP_ID


def test_personal_commands_are_ones_the_bot_understands() -> None:
    (bot,) = render_manifest(GOOD)["bots"]
    (command_list, team_list) = bot["commandLists"]
    assert command_list["scopes"] == ["personal"]
    titles = [c["title"] for c in command_list["commands"]]
    assert titles == ["help", "my requests", "privacy"]
    assert all(c["description"] for c in command_list["commands"])
    # The DCCT's desk and insights are offered in the team (the DCCT channel), not to
    # every member of staff.
    assert team_list["scopes"] == ["team"]
    team = [c["title"] for c in team_list["commands"]]
    assert team == ["rulings", "insights"]
    assert all(c["description"].startswith("DCCT only: ") for c in team_list["commands"])
    # Each title is a command the dialogue answers, and each kind of command is offered.
    understood = {**COMMANDS, **DCCT_COMMANDS}
    assert {understood[t] for t in [*titles, *team]} == set(understood.values())


@pytest.mark.parametrize(
    ("values", "named"),
    [
        (ManifestValues(app_id="not-a-guid", host=HOST), "--app-id: expected a GUID"),
        (ManifestValues(app_id="", host=HOST), "--app-id: missing"),
        (ManifestValues(app_id=APP_ID + "0", host=HOST), "--app-id"),
        (ManifestValues(app_id=APP_ID, host="https://adviser.example.org"), "--host"),
        (ManifestValues(app_id=APP_ID, host="adviser.example.org:443"), "--host"),
        (ManifestValues(app_id=APP_ID, host="adviser.example.org/api"), "--host"),
        (ManifestValues(app_id=APP_ID, host="localhost"), "--host"),
        (ManifestValues(app_id=APP_ID, host="10.0.0.1"), "--host"),
        (ManifestValues(app_id=APP_ID, host="-bad-.example.org"), "--host"),
        (ManifestValues(app_id=APP_ID, host=HOST, version="1.0"), "--version"),
        (ManifestValues(app_id=APP_ID, host=HOST, privacy_url="http://x.org"), "--privacy-url"),
    ],
)
def test_bad_values_are_named(values: ManifestValues, named: str) -> None:
    with pytest.raises(PackageError, match=named):
        render_manifest(values)


def test_host_is_normalised() -> None:
    manifest = render_manifest(ManifestValues(app_id=APP_ID.upper(), host="Adviser.Example.ORG."))
    assert manifest["validDomains"] == [HOST]
    assert manifest["id"] == APP_ID


def test_unknown_placeholder_in_template_is_an_error() -> None:
    template = json.loads(TEMPLATE.read_text())
    template["name"]["short"] = "{{nmae}}"
    with pytest.raises(PackageError, match=r"unknown placeholder \{\{nmae\}\}"):
        render_manifest(GOOD, template)


# --- the zip ---------------------------------------------------------------------------


def test_zip_holds_exactly_the_three_files_at_its_root(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "app.zip"
    build_package(GOOD, out)
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
        assert zf.read("color.png") == icons.color_png()
        assert zf.read("outline.png") == icons.outline_png()
    validate(manifest)


def test_same_inputs_give_the_same_zip(tmp_path: Path) -> None:
    build_package(GOOD, tmp_path / "a.zip")
    build_package(GOOD, tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "package", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


def test_command_line_writes_the_package(tmp_path: Path) -> None:
    out = tmp_path / "app.zip"
    done = run_cli("--app-id", APP_ID, "--host", HOST, "--out", str(out), "--version", "2.0.1")
    assert done.returncode == 0, done.stderr
    assert f"https://{HOST}/api/messages" in done.stdout
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("manifest.json"))["version"] == "2.0.1"


def test_command_line_takes_the_app_id_from_the_environment(tmp_path: Path) -> None:
    out = tmp_path / "app.zip"
    env = {"PATH": "/usr/bin:/bin", "MicrosoftAppId": APP_ID}
    done = run_cli("--host", HOST, "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("manifest.json"))["id"] == APP_ID


def test_command_line_bad_guid_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "app.zip"
    done = run_cli("--app-id", "12345", "--host", HOST, "--out", str(out))
    assert done.returncode == 2
    assert "error: --app-id: expected a GUID" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


# --- icons -----------------------------------------------------------------------------


def read_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, colour type, rows of raw pixel bytes) for 8-bit unfiltered PNGs."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0)
    channels = {2: 3, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = 1 + width * channels
    assert len(raw) == stride * height
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)  # filter "none", as written
    return width, height, colour, [row[1:] for row in rows]


def pixels(rows: list[bytes], channels: int) -> list[tuple[int, ...]]:
    return [tuple(row[i : i + channels]) for row in rows for i in range(0, len(row), channels)]


def test_committed_icons_are_what_the_code_draws() -> None:
    for name, draw, channels in (
        ("color.png", icons.color_pixels, 3),
        ("outline.png", icons.outline_pixels, 4),
    ):
        _, _, _, rows = read_png((ROOT / "deploy" / "teams" / name).read_bytes())
        expected = [px for row in draw() for px in row]
        assert pixels(rows, channels) == expected, f"deploy/teams/{name} is stale: regenerate"


def test_colour_icon_is_192_square_and_opaque() -> None:
    width, height, colour, rows = read_png(icons.color_png())
    assert (width, height) == (192, 192)
    assert colour == 2  # RGB: no alpha channel, so every pixel is opaque
    found = set(pixels(rows, 3))
    assert icons.BACKGROUND in found
    assert icons.WHITE in found


def test_outline_icon_is_32_square_white_on_transparent() -> None:
    width, height, colour, rows = read_png(icons.outline_png())
    assert (width, height) == (32, 32)
    assert colour == 6  # RGBA
    found = pixels(rows, 4)
    bad = [px for px in found if px[3] != 0 and px[:3] != (255, 255, 255)]
    assert bad == []
    transparent = sum(px[3] == 0 for px in found)
    solid = sum(px == (255, 255, 255, 255) for px in found)
    assert transparent > 200
    assert solid > 200
    assert found[0] == (0, 0, 0, 0)  # the corner is background


def test_the_mark_has_the_tick_cut_out() -> None:
    # The middle of the tick's corner is background, the bubble beside it is mark.
    assert not icons.bubble_with_tick(*icons.TICK[1])
    assert icons.bubble_with_tick(0.2, 0.3)
    assert not icons.bubble_with_tick(0.02, 0.02)
