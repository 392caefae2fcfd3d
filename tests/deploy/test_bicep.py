"""The Azure template: compiled when the Bicep compiler is here, always linted
(tests/deploy/bicep_lint.py: syntax, names, shadowed built-in functions) and read for
the promises the runbook makes (parameters supplied and documented, two or more replicas
on PostgreSQL with Entra ID sign-in and no file share, health probes, and only
environment variables the bot actually reads)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.conftest import ROOT
from tests.deploy import bicep_lint

AZURE = ROOT / "deploy" / "azure"
BICEP = AZURE / "main.bicep"
PARAMETERS = AZURE / "main.parameters.json"
RUNBOOK = ROOT / "deploy" / "README.md"
PARAM = re.compile(r"^param\s+(?P<name>\w+)\s+(?P<type>\w+)(?P<default>\s*=.*)?$", re.MULTILINE)
ENV_ENTRY = re.compile(r"\{\s*name:\s*'(?P<name>[A-Za-z_][A-Za-z0-9_]*)'\s*value:\s*(?P<value>.+)")


def bicep_text() -> str:
    return BICEP.read_text()


def declared_params() -> dict[str, bool]:
    """name -> has a default."""
    return {m["name"]: bool(m["default"]) for m in PARAM.finditer(bicep_text())}


def env_vars() -> dict[str, str]:
    return {m["name"]: m["value"].strip() for m in ENV_ENTRY.finditer(bicep_text())}


def compiler() -> list[str] | None:
    if shutil.which("bicep"):
        return ["bicep", "build", str(BICEP), "--stdout"]
    if shutil.which("az"):
        return ["az", "bicep", "build", "--file", str(BICEP), "--stdout"]
    return None


def test_template_compiles() -> None:
    command = compiler()
    if command is None:
        pytest.skip("neither bicep nor az is on PATH")
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    arm = json.loads(done.stdout)
    assert set(arm["parameters"]) == set(declared_params())


def test_template_lints_clean() -> None:
    assert bicep_lint.problems(bicep_text()) == []


SHADOWED = """
param issuer string = '${environment().authentication.loginEndpoint}x'
resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'env'
}
"""
ACCEPTED = """
@description('a \\'quoted\\' ${string(1)} word') // not code: '${' in a comment
param names array = [
  'a'
]
var upper = map(names, name => toUpper(name))
var pairs = [for (n, i) in names: { key: n, at: i, url: 'https://${n}/${string(i)}' }]
var picked = empty(names) ? names : first(names)
var text = '''
multi ${not} 'interpolated'
'''
output o object = { p: upper, q: pairs, r: sys.concat(picked, text) }
"""


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (SHADOWED, "main.bicep:2: environment() calls the resource 'environment', not the "
                   "function: write az.environment()"),
        ("var concat = 1\nvar b = concat([1], [2])\n", "write sys.concat()"),
        ("var a = identitty.id\n", "'identitty' is not declared"),
        ("var a = lenght('x')\n", "lenght() is not a Bicep function"),
        ("var a = 1\nvar a = 2\n", "'a' is declared twice"),
        ("var a = [\n  {\n    b: 1\n  }\n", "[ never closed"),
        ("var a = 'https://x/${b.c'\n", "string not closed"),
        ("var a = { b: 1 }}\n", "unmatched }"),
    ],
)  # fmt: skip
def test_the_linter_catches_what_the_compiler_would(template: str, problem: str) -> None:
    found = bicep_lint.problems(template)
    assert any(problem in line for line in found), found


def test_the_linter_accepts_what_the_compiler_accepts() -> None:
    assert bicep_lint.problems(SHADOWED.replace("${environment()", "${az.environment()")) == []
    assert bicep_lint.problems(ACCEPTED) == []


def test_direct_line_uses_enhanced_authentication_with_the_sharepoint_origins() -> None:
    text = bicep_text()
    site = text[text.index("channelName: 'DirectLineChannel'") :]
    assert "isSecureSiteEnabled: true" in site
    assert "trustedOrigins: webchatTrustedOrigins" in site
    assert "split(replace(webchatAllowedOrigins, ' ', ''), ',')" in text


def secure_params() -> set[str]:
    """@secure() parameters: passed on the command line, never kept in the file."""
    return set(re.findall(r"@secure\(\)\s*(?:@\w+\([^)]*\)\s*)*param\s+(\w+)", BICEP.read_text()))


def test_every_param_is_supplied_or_has_a_default() -> None:
    supplied = set(json.loads(PARAMETERS.read_text())["parameters"])
    params = declared_params()
    assert "image" in params
    assert secure_params() == {"cardSigningKey", "directLineSecret"}
    missing = [name for name, has_default in params.items() if not has_default]
    missing = [name for name in missing if name not in supplied | secure_params()]
    assert not missing, f"no value in main.parameters.json and no default: {missing}"
    leaked = secure_params() & supplied
    assert not leaked, f"secrets must not be in main.parameters.json: {leaked}"
    unknown = supplied - set(params)
    assert not unknown, f"main.parameters.json sets parameters main.bicep lacks: {unknown}"


def test_every_param_is_documented_in_the_runbook() -> None:
    runbook = RUNBOOK.read_text()
    undocumented = [name for name in declared_params() if f"`{name}`" not in runbook]
    assert not undocumented, f"deploy/README.md does not explain: {undocumented}"


def test_environment_variables_are_real_settings() -> None:
    names = {name for name, _, _ in Settings.describe()}
    env = env_vars()
    assert env, "no env entries found in main.bicep"
    unknown = set(env) - names
    assert not unknown, f"main.bicep sets variables the bot does not read: {sorted(unknown)}"


def test_bot_signs_in_as_the_managed_identity() -> None:
    env = env_vars()
    assert env["MicrosoftAppId"] == "identity.properties.clientId"
    assert env["MicrosoftAppType"] == "'UserAssignedMSI'"
    assert env["MicrosoftAppTenantId"] == "identity.properties.tenantId"
    assert "MicrosoftAppPassword" not in env
    text = bicep_text()
    assert "msaAppType: 'UserAssignedMSI'" in text
    assert "msaAppId: identity.properties.clientId" in text
    assert "msaAppMSIResourceId: identity.id" in text
    assert "kind: 'azurebot'" in text
    assert "endpoint: 'https://${app.properties.configuration.ingress.fqdn}/api/messages'" in text
    assert "channelName: 'MsTeamsChannel'" in text
    assert "channelName: 'DirectLineChannel'" in text


def test_image_is_pulled_as_the_identity_with_acr_pull() -> None:
    text = bicep_text()
    # The built-in AcrPull role's fixed id (the same in every tenant).
    assert "var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d'" in text
    assert "principalId: identity.properties.principalId" in text
    assert "identity: identity.id" in text


def test_runtime_matches_the_image() -> None:
    env = env_vars()
    assert env["BOT_HOST"] == "'0.0.0.0'"
    text = bicep_text()
    assert "var port = 3978" in text
    assert "targetPort: port" in text
    assert text.count("path: '/healthz'") == 2
    assert "type: 'Liveness'" in text
    assert "type: 'Readiness'" in text


def test_no_file_share_at_all() -> None:
    text = bicep_text()
    code = {t.text for t in bicep_lint.lex(text).tokens if t.kind == "name"}  # not comments
    for gone in ("Microsoft.Storage/", "managedEnvironments/storages", "volumeMounts",
                 "volumes:", "AzureFile", "nobrl", "BOT_DATABASE_PATH"):  # fmt: skip
        assert gone not in text, gone
    assert "storageType" not in code


def param_default(name: str) -> str:
    match = next(m for m in PARAM.finditer(bicep_text()) if m["name"] == name)
    return match["default"].strip().removeprefix("=").strip()


def test_two_or_more_replicas_and_an_http_scale_rule() -> None:
    text = bicep_text()
    assert re.search(r"minReplicas: minReplicas\s+maxReplicas: maxReplicas", text)
    assert int(param_default("minReplicas")) >= 2
    assert re.search(r"@minValue\(2\)\s+param minReplicas int", text), "never fewer than two"
    assert int(param_default("maxReplicas")) >= int(param_default("minReplicas"))
    scale = text[text.index("scale: {") :]
    assert re.search(r"rules: \[\s+\{\s+name: 'http-requests'\s+http: \{", scale)
    assert "concurrentRequests: string(httpConcurrentRequests)" in scale
    assert "activeRevisionsMode: 'Single'" in text  # updates replace revisions, rolling


def test_postgres_signs_in_the_identity_with_entra_over_tls_with_backups() -> None:
    text = bicep_text()
    assert "resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@" in text
    assert re.search(r"activeDirectoryAuth: 'Enabled'\s+passwordAuth: 'Disabled'", text)
    admin = text[text.index("resource databaseUser") :]
    admin = admin[: admin.index("\n}\n")]
    assert "flexibleServers/administrators@" in admin
    assert "name: identity.properties.principalId" in admin
    assert "principalType: 'ServicePrincipal'" in admin
    assert "principalName: identity.name" in admin
    assert re.search(r"name: 'require_secure_transport'\s+properties: \{\s+value: 'on'", text)
    assert re.search(r"name: 'ssl_min_protocol_version'\s+properties: \{\s+value: 'TLSv1.2'", text)
    assert "backupRetentionDays: postgresBackupRetentionDays" in text
    assert int(param_default("postgresBackupRetentionDays")) >= 7
    env = env_vars()
    assert env["BOT_DATABASE_URL"] == "databaseUrl"
    assert env["BOT_DATABASE_AUTH"] == "'entra'"
    url = re.search(r"var databaseUrl = '([^']+)'", text)
    assert url is not None
    assert url[1].startswith("postgresql://${identity.name}@${postgres.properties.")
    assert "sslmode=verify-full" in url[1]
    assert "databaseUser" in text[text.index("resource app ") :][:400], "app waits for its user"


def test_parameters_file_is_placeholders_not_secrets() -> None:
    values = json.loads(PARAMETERS.read_text())["parameters"]
    assert "<registry>" in values["image"]["value"]
    assert not any("password" in name.lower() or "key" in name.lower() for name in values)


def test_parameters_file_leaves_later_steps_empty() -> None:
    # The first deployment (runbook step 2) comes before the DCCT ids (step 5) and the
    # web part (step 6) exist; a placeholder left there would stop the bot at start.
    values = {
        name: v["value"] for name, v in json.loads(PARAMETERS.read_text())["parameters"].items()
    }
    later = ["dcctTeamId", "dcctChannelId", "dcctMailbox", "senderMailbox", "teamsAppCatalogId"]
    later += ["webchatApiAudience", "webchatAllowedOrigins"]
    assert {name: values[name] for name in later} == dict.fromkeys(later, "")
    # image and registryName are placeholders on purpose: step 2 passes them on the command line.
    placeholders = [
        n for n, v in values.items() if "<" in str(v) and n not in ("image", "registryName")
    ]
    assert not placeholders, f"placeholders in main.parameters.json: {placeholders}"


def test_checks_are_real(tmp_path: Path) -> None:
    # The parameter regex does find what it looks for.
    assert PARAM.match("param image string")
    assert not PARAM.match("param image string")["default"]  # type: ignore[index]
    assert PARAM.match("param x int = 3")["default"]  # type: ignore[index]
