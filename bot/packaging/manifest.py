"""`python -m bot package`: render the Teams manifest and zip the app package.

The template (deploy/teams/manifest.template.json, of which an installed wheel carries a
copy beside this module) holds the wording; this fills its `{{placeholders}}` from checked
arguments, so nobody hand-edits a manifest and uploads a typo to the Teams admin centre.
Placeholders are replaced inside parsed JSON strings, never in the raw text, so a value
can't break the JSON. Teams wants manifest.json and both icons at the root of the zip,
with no folders.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.packaging import icons

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parents[1] / "deploy" / "teams" / "manifest.template.json"  # in a checkout
PACKAGED_TEMPLATE = HERE / "manifest.template.json"  # its copy in the wheel (pyproject.toml)
GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
SEMVER = re.compile(r"^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)$")
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
PACKAGE_FILES = ("manifest.json", "color.png", "outline.png")
DEFAULT_WEBSITE = "https://www.parliament.scot"
ZIP_DATE = (2024, 1, 1, 0, 0, 0)  # fixed, so the same inputs give the same zip


class PackageError(ValueError):
    """A bad argument; the message says which and what is expected."""


@dataclass(frozen=True)
class ManifestValues:
    app_id: str
    host: str
    version: str = "1.0.0"
    website_url: str = DEFAULT_WEBSITE
    privacy_url: str = ""  # empty = the website URL
    terms_url: str = ""  # empty = the website URL

    def checked(self) -> ManifestValues:
        """The same values, normalised; raises PackageError naming every bad one."""
        problems = []
        app_id = self.app_id.strip()
        if not app_id:
            problems.append("--app-id: missing; give the bot's app id or set MicrosoftAppId")
        elif not GUID.match(app_id):
            problems.append(
                f"--app-id: expected a GUID like 00000000-0000-0000-0000-000000000000, "
                f"got {self.app_id!r}"
            )
        host = self.host.strip().lower().rstrip(".")
        if not is_bare_hostname(host):
            problems.append(
                "--host: expected a bare host name like adviser.example.org "
                f"(no https://, port or path), got {self.host!r}"
            )
        if not SEMVER.match(self.version):
            problems.append(f"--version: expected MAJOR.MINOR.PATCH, got {self.version!r}")
        urls = {}
        for flag, url in (
            ("--website-url", self.website_url),
            ("--privacy-url", self.privacy_url or self.website_url),
            ("--terms-url", self.terms_url or self.website_url),
        ):
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname:
                problems.append(f"{flag}: expected an https:// address, got {url!r}")
            urls[flag] = url
        if problems:
            raise PackageError("\n  ".join(problems))
        return ManifestValues(
            app_id.lower(),
            host,
            self.version,
            urls["--website-url"],
            urls["--privacy-url"],
            urls["--terms-url"],
        )

    def placeholders(self) -> dict[str, str]:
        return {
            "appId": self.app_id,
            "host": self.host,
            "version": self.version,
            "websiteUrl": self.website_url,
            "privacyUrl": self.privacy_url,
            "termsOfUseUrl": self.terms_url,
            "accentColor": "#{:02X}{:02X}{:02X}".format(*icons.BACKGROUND),
        }


def is_bare_hostname(host: str) -> bool:
    labels = host.split(".")
    return (
        len(host) <= 253
        and len(labels) >= 2
        and all(HOST_LABEL.match(label) for label in labels)
        and not labels[-1].isdigit()  # not an IP address
    )


def template_path() -> Path:
    """The checkout's template (the one to edit), else the copy packed into the wheel."""
    return TEMPLATE if TEMPLATE.is_file() else PACKAGED_TEMPLATE


def load_template(path: Path | None = None) -> Any:
    path = template_path() if path is None else path
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackageError(
            f"{path}: manifest template not found; this installation was built without it "
            "(build the wheel from a checkout: pyproject.toml packs the template in)"
        ) from None


def render_manifest(values: ManifestValues, template: Any | None = None) -> dict[str, Any]:
    """The manifest as a dict. Raises PackageError for bad values or unknown placeholders."""
    values = values.checked()
    filled = _fill(load_template() if template is None else template, values.placeholders())
    if not isinstance(filled, dict):
        raise PackageError("the manifest template must be a JSON object")
    return filled


def _fill(node: Any, values: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, str):

        def replace(match: re.Match[str]) -> str:
            name = match[1]
            if name not in values:
                raise PackageError(f"manifest template: unknown placeholder {{{{{name}}}}}")
            return values[name]

        return PLACEHOLDER.sub(replace, node)
    return node


def build_package(values: ManifestValues, out: Path) -> dict[str, Any]:
    """Write the app package zip to `out`; returns the manifest it holds."""
    manifest = render_manifest(values)
    contents = {
        "manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n",
        "color.png": icons.color_png(),
        "outline.png": icons.outline_png(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in PACKAGE_FILES:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, contents[name])
    return manifest
