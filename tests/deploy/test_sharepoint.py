"""Static checks of the SharePoint web part in deploy/sharepoint.

Building the .sppkg takes minutes and ~1.5 GB of node_modules (scripts/build-sharepoint does
that), so these tests only read the committed files.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from bot.channels.activity_protocol.outbound import ACTIVITY_KEY, REPLACES
from bot.channels.activity_protocol.turns import JOIN_EVENT

ROOT = Path(__file__).resolve().parent.parent.parent
SPFX = ROOT / "deploy" / "sharepoint"
WEBPART = SPFX / "src" / "webparts" / "socialMediaAdviser"
MANIFEST = WEBPART / "SocialMediaAdviserWebPart.manifest.json"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def strip_json_comments(text: str) -> str:
    """SPFx manifests are JSON with // and /* */ comments; drop those outside strings."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
        elif c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def load_jsonc(path: Path) -> Any:
    return json.loads(strip_json_comments(path.read_text(encoding="utf-8")))


def source_files() -> list[Path]:
    """The committed sources: top-level files, config/ and src/ (never build output)."""
    files = [p for p in SPFX.iterdir() if p.is_file()]
    for folder in (SPFX / "config", SPFX / "src"):
        files.extend(p for p in folder.rglob("*") if p.is_file())
    return sorted(files)


def test_strip_json_comments_keeps_urls_in_strings() -> None:
    text = '{\n  // a comment\n  "u": "https://x.example/a//b", /* more */ "n": 1\n}'
    assert json.loads(strip_json_comments(text)) == {"u": "https://x.example/a//b", "n": 1}


@pytest.fixture(scope="module")
def solution() -> dict[str, Any]:
    data = load_jsonc(SPFX / "config" / "package-solution.json")
    assert isinstance(data, dict)
    solution = data["solution"]
    assert isinstance(solution, dict)
    return solution


def test_package_solution_requests_the_bot_api(solution: dict[str, Any]) -> None:
    requests = solution["webApiPermissionRequests"]
    assert {"resource": "Social media policy adviser API", "scope": "user_impersonation"} in (
        requests
    )


def test_package_solution_ships_its_assets_tenant_wide(solution: dict[str, Any]) -> None:
    assert solution["includeClientSideAssets"] is True
    assert solution["skipFeatureDeployment"] is True
    assert solution["version"] == "1.0.0.0"
    assert GUID.match(solution["id"])


def test_manifest_preconfigures_the_three_properties() -> None:
    manifest = load_jsonc(MANIFEST)
    assert manifest["componentType"] == "WebPart"
    entry = manifest["preconfiguredEntries"][0]
    assert entry["title"]["default"] == "Social media policy adviser"
    properties = entry["properties"]
    assert set(properties) == {"title", "botEndpoint", "apiResource"}
    assert properties["title"] == "Is this OK to post?"
    assert all(isinstance(value, str) for value in properties.values())


def test_lock_file_is_committed_and_pins_web_chat() -> None:
    package = json.loads((SPFX / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((SPFX / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["lockfileVersion"] >= 2
    webchat = package["dependencies"]["botframework-webchat"]
    assert lock["packages"]["node_modules/botframework-webchat"]["version"] == webchat
    assert package["devDependencies"]["@rushstack/heft"]  # SPFx 1.22: heft, not gulp


def test_web_chat_is_bundled_not_loaded_from_a_cdn() -> None:
    files = source_files()
    assert any(p.suffix == ".ts" for p in files)
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "cdn.botframework.com" not in text, path
        assert not re.search(r"<script[^>]+src=[\"']https?://", text), path
    webpart = (WEBPART / "SocialMediaAdviserWebPart.ts").read_text(encoding="utf-8")
    assert re.search(r"import \{[^}]*renderWebChat[^}]*\} from 'botframework-webchat'", webpart)
    assert "createDirectLine({ token:" in webpart


def test_token_comes_from_the_bot_api_with_an_entra_token() -> None:
    webpart = (WEBPART / "SocialMediaAdviserWebPart.ts").read_text(encoding="utf-8")
    client = (WEBPART / "chat" / "tokenClient.ts").read_text(encoding="utf-8")
    assert "aadTokenProviderFactory" in webpart
    assert "'/api/directline/token'" in client
    assert "'/api/directline/token/refresh'" in client
    assert "Authorization: `Bearer ${accessToken}`" in client


def test_web_part_greets_on_open_and_replaces_cards_with_the_bots_keys() -> None:
    # The web part's Web Chat says webchat/join (the bot's welcome, as /chat does) and puts
    # a replacing card in the old one's place: the keys must be the ones the bot uses.
    updates = (WEBPART / "chat" / "cardUpdates.ts").read_text(encoding="utf-8")
    keys = dict(re.findall(r"export const (\w+): string = '([^']*)';", updates))
    assert keys == {"JOIN_EVENT": JOIN_EVENT, "ACTIVITY_KEY": ACTIVITY_KEY, "REPLACES": REPLACES}
    assert "'DIRECT_LINE/CONNECT_FULFILLED'" in updates
    assert "name: JOIN_EVENT" in updates
    webpart = (WEBPART / "SocialMediaAdviserWebPart.ts").read_text(encoding="utf-8")
    assert "store: createStore({}, adviserMiddleware)" in webpart


def test_user_facing_text() -> None:
    strings = (WEBPART / "loc" / "en-us.js").read_text(encoding="utf-8")
    assert '"DefaultTitle": "Is this OK to post?"' in strings
    assert (
        "Ask about your personal social media use under the SPCB Social Media policy. "
        "It is not HR or legal advice. Official Parliament accounts: the DCCT."
    ) in strings


@pytest.mark.parametrize("script", ["deploy/sharepoint/build.sh", "scripts/build-sharepoint"])
def test_build_scripts_are_executable(script: str) -> None:
    path = ROOT / script
    assert path.is_file()
    assert path.stat().st_mode & stat.S_IXUSR
    assert os.access(path, os.X_OK)
    assert path.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n")


def test_build_script_uses_heft_and_node_22() -> None:
    build = (SPFX / "build.sh").read_text(encoding="utf-8")
    assert "npm ci" in build
    assert "heft test --clean --production" in build
    assert "heft package-solution --production" in build
    assert re.search(r'NODE_VERSION="22\.\d+\.\d+"', build)


def test_build_output_is_ignored() -> None:
    ignored = (SPFX / ".gitignore").read_text(encoding="utf-8").splitlines()
    for entry in ("node_modules/", "/lib/", "/dist/", "/temp/", "/release/"):
        assert entry in ignored
    assert "/sharepoint/solution/" in ignored
    assert "/.tools/" in ignored


def test_webpack_patch_hides_amd_define_from_web_chat() -> None:
    """Without it Web Chat fails as it loads on a SharePoint page (the page has an AMD define)."""
    patch = load_jsonc(SPFX / "config" / "webpack-patch.json")
    (patch_file,) = patch["patchFiles"]
    assert (SPFX / patch_file).is_file()
    loader = (SPFX / "config" / "webpack-patch" / "hide-amd-define-loader.js").read_text(
        encoding="utf-8"
    )
    assert "var define = undefined; " in loader
