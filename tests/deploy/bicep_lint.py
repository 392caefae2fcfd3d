"""A small Bicep checker for what can be checked without the Bicep compiler.

The compiler is not obtainable from the package registries this project may use (it
ships as a .NET binary on NuGet and GitHub), so this reads the template the way the
compiler's first passes do: it tokenises it (strings with `${…}` interpolations,
comments, multi-line strings), collects the declarations, and reports

- brackets that do not balance, strings that do not end, names declared twice;
- a call of a built-in function by a bare name that a declaration shadows (Bicep then
  requires `az.environment()` or `sys.concat()`: BCP265), or of no function at all;
- a name used in an expression that nothing declares (a typo, a renamed resource).

Each problem is `main.bicep:<line>: <what>`. It is a linter, not a compiler: types,
resource schemas and API versions are left to `az bicep build` (tests/deploy/
test_bicep.py runs it whenever `bicep` or `az` is on PATH).
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Built-in functions by namespace (Bicep 0.3x docs: "Bicep functions"); a call by a bare
# name resolves to these unless a declaration has the same name.
AZ_FUNCTIONS = _names(
    """deployer deployment environment extensionResourceId getSecret listAccountSas
    listKeys listSecrets listServiceSas managementGroup managementGroupResourceId
    pickZones providers reference resourceGroup resourceId subscription
    subscriptionResourceId tenant tenantResourceId toLogicalZone toPhysicalZone"""
)
SYS_FUNCTIONS = _names(
    """any array base64 base64ToJson base64ToString bool buildUri cidrHost cidrSubnet
    coalesce concat contains dataUri dataUriToString dateTimeAdd dateTimeFromEpoch
    dateTimeToEpoch empty endsWith fail filter first flatten format groupBy guid
    indexOf int intersection items join json last lastIndexOf length loadFileAsBase64
    loadJsonContent loadTextContent loadYamlContent map mapValues max min newGuid
    objectKeys padLeft parseCidr parseUri range readEnvironmentVariable reduce replace
    shallowMerge skip sort split startsWith string substring take toLower toObject
    toUpper trim tryGet union uniqueString uri uriComponent uriComponentToString utcNow
    description discriminator export metadata minLength maxLength minValue maxValue
    allowed secure sealed batchSize onlyIfNotExists"""
)
BUILTINS = AZ_FUNCTIONS | SYS_FUNCTIONS
NAMESPACES = frozenset({"az", "sys"})
DECLARATIONS = frozenset({"param", "var", "resource", "module", "type", "func"})
STATEMENTS = DECLARATIONS | {"output", "metadata", "targetScope", "import", "extension"}
KEYWORDS = _names("true false null if for in existing as with import from") | STATEMENTS
PAIRS = {")": "(", "]": "[", "}": "{"}
OPERATORS = ("...", "==", "!=", "<=", ">=", "&&", "||", "??", "=>", "=~", "!~", ".?", "?.")


@dataclass(frozen=True)
class Token:
    kind: str  # name, number, string, punct, newline
    text: str
    line: int


@dataclass
class Lexed:
    tokens: list[Token] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def lex(text: str, file: str = "main.bicep") -> Lexed:
    out = Lexed()
    emit = out.tokens.append
    interpolations: list[int] = []  # open `${` … `}`: brace depth inside each
    i, line, n = 0, 1, len(text)

    def string(i: int, start: int) -> int:
        """Scan a 'string' from i; returns where code resumes (after it, or in `${`)."""
        nonlocal line
        while i < n:
            ch = text[i]
            if ch == "\\":
                i += 2
            elif ch == "'":
                emit(Token("string", "'", line))
                return i + 1
            elif text.startswith("${", i):
                emit(Token("string", "'", line))
                emit(Token("punct", "(", line))  # an interpolation is a bracketed expression
                interpolations.append(0)
                return i + 2
            elif ch == "\n":
                out.problems.append(f"{file}:{start}: string not closed on its line")
                return i
            else:
                i += 1
        out.problems.append(f"{file}:{start}: string not closed")
        return n

    while i < n:
        ch = text[i]
        if ch == "\n":
            emit(Token("newline", "\n", line))
            line += 1
            i += 1
        elif ch in " \t\r":
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                out.problems.append(f"{file}:{line}: comment not closed")
                break
            line += text.count("\n", i, end)
            i = end + 2
        elif text.startswith("'''", i):
            end = text.find("'''", i + 3)
            if end < 0:
                out.problems.append(f"{file}:{line}: multi-line string not closed")
                break
            emit(Token("string", "'''", line))
            line += text.count("\n", i, end)
            i = end + 3
        elif ch == "'":
            i = string(i + 1, line)
        elif ch.isalpha() or ch == "_":
            start = i
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            emit(Token("name", text[start:i], line))
        elif ch.isdigit():
            start = i
            while i < n and text[i].isdigit():
                i += 1
            emit(Token("number", text[start:i], line))
        elif ch == "}" and interpolations and interpolations[-1] == 0:
            interpolations.pop()
            emit(Token("punct", ")", line))
            i = string(i + 1, line)
        else:
            if interpolations and ch == "{":
                interpolations[-1] += 1
            elif interpolations and ch == "}":
                interpolations[-1] -= 1
            op = next((o for o in OPERATORS if text.startswith(o, i)), ch)
            emit(Token("punct", op, line))
            i += len(op)
    return out


def problems(text: str, file: str = "main.bicep") -> list[str]:
    lexed = lex(text, file)
    found = list(lexed.problems)
    tokens = lexed.tokens
    found += _brackets(tokens, file)
    symbols, declared, header = _declarations(tokens, file, found)
    bound = _bound_names(tokens)
    for index, token in enumerate(tokens):
        if token.kind != "name" or index in declared or index in header:
            continue
        before = _previous(tokens, index)
        after = _next(tokens, index)
        if before is not None and before.text in (".", ".?", "?.", "::"):
            continue  # a property, a method or a namespaced function
        if after is not None and after.text == ":" and _starts_entry(tokens, index):
            continue  # an object key
        name = token.text
        if after is not None and after.text == "(" and name not in KEYWORDS:
            if name in symbols:
                found.append(
                    f"{file}:{token.line}: {name}() calls the {symbols[name]} {name!r}, not "
                    f"the function: write {'az' if name in AZ_FUNCTIONS else 'sys'}.{name}()"
                )
            elif name not in BUILTINS:
                found.append(f"{file}:{token.line}: {name}() is not a Bicep function")
            continue
        if before is not None and before.text == "@":
            continue  # handled as a call above when it has arguments
        if name in symbols or name in bound or name in KEYWORDS or name in NAMESPACES:
            continue
        found.append(f"{file}:{token.line}: {name!r} is not declared")
    return found


def _brackets(tokens: list[Token], file: str) -> list[str]:
    found: list[str] = []
    stack: list[Token] = []
    for token in tokens:
        if token.kind != "punct":
            continue
        if token.text in "([{":
            stack.append(token)
        elif token.text in PAIRS:
            if not stack or stack[-1].text != PAIRS[token.text]:
                found.append(f"{file}:{token.line}: unmatched {token.text}")
            else:
                stack.pop()
    found += [f"{file}:{t.line}: {t.text} never closed" for t in stack]
    return found


def _declarations(
    tokens: list[Token], file: str, found: list[str]
) -> tuple[dict[str, str], set[int], set[int]]:
    """name -> kind; indices of declared names; indices of header words (types)."""
    symbols: dict[str, str] = {}
    outputs: set[str] = set()
    declared: set[int] = set()
    header: set[int] = set()
    depth = 0
    at_start = True
    for index, token in enumerate(tokens):
        if token.kind == "punct" and token.text in "([{":
            depth += 1
        elif token.kind == "punct" and token.text in ")]}":
            depth -= 1
        if token.kind == "newline":
            at_start = True
            continue
        if at_start and depth == 0 and token.kind == "name" and token.text in STATEMENTS:
            header.add(index)
            name_at = _next_index(tokens, index)
            if token.text in DECLARATIONS | {"output"} and name_at is not None:
                name = tokens[name_at].text
                declared.add(name_at)
                table = outputs if token.text == "output" else symbols
                if name in table:
                    found.append(f"{file}:{token.line}: {name!r} is declared twice")
                if token.text == "output":
                    outputs.add(name)
                else:
                    symbols[name] = token.text
                # The rest of the header up to '=' names types (string, object, …).
                j = _next_index(tokens, name_at)
                while (
                    j is not None
                    and tokens[j].text not in ("=", "\n")
                    and (tokens[j].kind in ("name", "punct") and tokens[j].text != "{")
                ):
                    if tokens[j].kind == "name":
                        header.add(j)
                    j = j + 1 if j + 1 < len(tokens) else None
            elif name_at is not None and tokens[name_at].kind == "name":
                header.add(name_at)  # targetScope, metadata, import, extension
        at_start = False
    return symbols, declared, header


def _bound_names(tokens: list[Token]) -> set[str]:
    """Loop variables (`for x in`, `for (x, i) in`) and lambda parameters (`x => …`)."""
    bound: set[str] = set()
    for index, token in enumerate(tokens):
        if token.kind == "name" and token.text == "for":
            j = index + 1
            while j < len(tokens) and tokens[j].text != "in":
                if tokens[j].kind == "name":
                    bound.add(tokens[j].text)
                j += 1
        if token.text == "=>":
            j = index - 1
            if tokens[j].kind == "name":
                bound.add(tokens[j].text)
            elif tokens[j].text == ")":
                while j > 0 and tokens[j].text != "(":
                    if tokens[j].kind == "name":
                        bound.add(tokens[j].text)
                    j -= 1
    return bound


def _starts_entry(tokens: list[Token], index: int) -> bool:
    """Is the name at `index` the first thing of an object entry (`{ key:` or a line)?"""
    before = tokens[index - 1] if index else None
    return before is None or before.kind == "newline" or before.text in ("{", ",")


def _previous(tokens: list[Token], index: int) -> Token | None:
    return tokens[index - 1] if index > 0 and tokens[index - 1].kind != "newline" else None


def _next(tokens: list[Token], index: int) -> Token | None:
    at = _next_index(tokens, index)
    return tokens[at] if at is not None else None


def _next_index(tokens: list[Token], index: int) -> int | None:
    at = index + 1
    return at if at < len(tokens) and tokens[at].kind != "newline" else None
