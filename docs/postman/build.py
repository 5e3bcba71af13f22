"""Rebuilds the Postman collection and its environment file from the running API.

    .venv/bin/python docs/postman/build.py

1. Starts a local server (`run.local_server`, as `make postman` does) and reads the OpenAPI
   schema it serves. Each case of `recipes.py` gets its operation, its status and its
   credentials from it. An operation without a case stops the build, and so does a case
   whose URL is not in the schema (unless marked `off_schema`). An operation that needs a
   token and has no 401 case gets one: its first success request again, without a token.
2. Writes the collection without examples, runs it with newman, and stops if one assertion
   fails: every example comes from a request the collection itself asserts.
3. Saves each real response, with the request that produced it (the real token replaced by a
   placeholder), as an example: on its own request, and all of an operation's examples on
   the request that stands for it (its first success case), so a reader finds the success
   and the errors of an operation side by side. Ids and timestamps are whatever the run
   produced.

Nothing is written unless all of this succeeds. Run it again after an endpoint is added or
changed, and commit the two JSON files with the recipe.
"""

import json
import re
import sys
import tempfile
import textwrap
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path

from recipes import FOLDERS, FROM_SCHEMA, INITIAL_VALUES, NO_AUTH, OWNER, TOKEN_PLACEHOLDERS, Case
from run import COLLECTION, ENVIRONMENT, local_server, newman, run_collection

METHODS = ("get", "post", "put", "patch", "delete")
NAMESPACE = uuid.UUID("7a5c1a9e-0000-4000-8000-00007a5c1a9e")
COLLECTION_ID = "00000000-0000-0000-0000-00007a5c1a9e"
ENVIRONMENT_ID = "00000000-0000-0000-0000-00007a5c1a9f"
# Request headers an example shows: what the case sets, plus these.
SHOWN_REQUEST_HEADERS = {"authorization", "content-type"}
# Response headers left out of examples: transport details, the time and request id of the
# capture, and the security headers every response carries alike.
HIDDEN_RESPONSE_HEADERS = {
    *("connection", "content-length", "date", "transfer-encoding", "vary", "x-request-id"),
    *("cross-origin-opener-policy", "referrer-policy", "strict-transport-security"),
    *("x-content-type-options", "x-frame-options"),
}

SAVE_HELPER = (
    "const save = (key, value) => { pm.collectionVariables.set(key, value); "
    "if (pm.environment.has(key)) pm.environment.set(key, value); };"
)
STATUS_TEST = 'pm.test("status is {0}", () => pm.response.to.have.status({0}));'
ENVELOPE_TEST = """
pm.test("error envelope", () => {
  const body = pm.response.json();
  pm.expect(pm.response.headers.get("Content-Type")).to.include("application/json");
  pm.expect(body).to.have.keys("type", "errors");
  pm.expect(body.errors[0]).to.have.keys("code", "detail", "attr");
});
"""
NAMES_TEST = """
pm.test("names {0}", () => pm.expect(pm.response.json().errors[0].attr).to.eql("{0}"));
"""
SAMPLE_HEADER = (
    "The header as you would write it yourself; not sent (unchecked): the collection's "
    "bearer auth sends {{accessToken}}."
)
DESCRIPTION = """\
Every operation of Tasklane's API v1, grouped by resource, with saved example responses: \
the success and the main errors of each operation, captured from a running server by \
`docs/postman/build.py` (ids and timestamps are those of that run).

Import it with `tasklane.postman_environment.json` and set `baseUrl` (default \
http://127.0.0.1:8000, `make run`). Run the whole collection in order: it registers fresh \
users, logs in and chains what it needs (`{{accessToken}}`, `{{projectId}}`, ...), so it \
can run again and again. Requests send `Authorization: Bearer {{accessToken}}` through the \
collection's auth. From a shell, `make postman` runs it with newman against a local server.\
"""


class BuildError(Exception):
    pass


def path_pattern(template: str) -> re.Pattern:
    """A schema path (`/api/v1/tasks/{id}/`) as a pattern any one segment fills."""
    parts = re.split(r"\{[^/{}]+\}", template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def resolve(case: Case, operations: list[tuple]) -> tuple[Case, tuple | None, str | None]:
    """The case with its status and credentials, its operation, and what is wrong with it.

    The status is the one the name ends with (`... (404)`), else the operation's first 2xx;
    the credentials are the owner's unless the operation accepts none (`{}`)."""
    path = case.path.split("?", 1)[0]
    found = [op for op in operations if op[0] == case.method and op[3].fullmatch(path)]
    operation = found[0][:3] if len(found) == 1 and not case.off_schema else None
    problem = None
    if case.off_schema and found:
        problem = f"{case.name!r} is marked off_schema but matches {found[0][:2]}"
    elif not case.off_schema and len(found) != 1:
        problem = f"{case.name!r} ({case.request}) matches {len(found)} schema operations"
    named = re.search(r"(\d{3})\)$", case.name)
    details = operation[2] if operation else {}
    successes = sorted(int(code) for code in details.get("responses", {}) if code[0] == "2")
    status = int(named.group(1)) if named else (successes or [0])[0]
    if not status:
        problem = f"{case.name!r} has no status: end its name with one, as in `(404)`"
    auth = case.auth
    if auth == FROM_SCHEMA:
        auth = OWNER if operation is None or needs_token(details) else NO_AUTH
    return replace(case, status=status, auth=auth), operation, problem


def needs_token(operation: dict) -> bool:
    """Whether the schema says the operation needs credentials (`{}` means none)."""
    return bool(operation.get("security")) and {} not in operation["security"]


def plan(schema: dict) -> dict:
    """The folders with their cases in running order, each case's operation, and the case
    that carries each operation's examples (its primary)."""
    operations = [
        (method.upper(), path, operation, path_pattern(path))
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if method in METHODS
    ]
    problems, folders, operation_of, primaries = [], [], {}, {}
    for folder in FOLDERS:
        cases = []
        for case in folder.cases:
            case, operation, problem = resolve(case, operations)
            problems += [problem] if problem else []
            if case.name in operation_of:
                problems.append(f"two cases are named {case.name!r}")
            operation_of[case.name] = operation
            cases.append(case)
            key = operation and operation[:2]
            if key and case.primary:
                if key in primaries and primaries[key].primary:
                    problems.append(f"{key} has two primary cases")
                primaries[key] = case
            elif key and key not in primaries and 200 <= case.status < 300:
                primaries[key] = case
        folders.append((folder, cases))
    for method, path, operation, _ in operations:
        if not any(op and op[:2] == (method, path) for op in operation_of.values()):
            request = re.sub(r"\{([^/{}]+)\}", r"{{\1}}", f"{method} {path}")
            problems.append(
                f"no recipe for {method} {path} ({operation.get('summary', '')}): add a case "
                f'to a folder in docs/postman/recipes.py, for example Case("...", "{request}")'
            )
        elif (method, path) not in primaries:
            problems.append(f"{method} {path} has no success case")
    if problems:
        raise BuildError("\n".join(f"  - {problem}" for problem in problems))

    # An operation that needs a token, without a 401 case of its own, gets one: its primary
    # request again, sent without a token, right after it.
    answered_401 = {
        operation_of[c.name][:2]
        for _, cs in folders
        for c in cs
        if c.status == 401 and operation_of[c.name]
    }
    for _, cases in folders:
        for case in list(cases):
            operation = operation_of[case.name]
            key = operation and operation[:2]
            if (
                key
                and primaries[key] is case
                and key not in answered_401
                and needs_token(operation[2])
            ):
                without = Case(
                    f"{case.name}, without a token (401)", case.request, case.body, NO_AUTH
                )
                cases.insert(cases.index(case) + 1, replace(without, status=401))
                operation_of[without.name] = operation
    return {"folders": folders, "operation_of": operation_of, "primaries": primaries}


def script(source: str) -> list[str]:
    lines = [line for line in textwrap.dedent(source).strip().splitlines() if line.strip()]
    return [SAVE_HELPER, *lines] if any("save(" in line for line in lines) else lines


def test_script(case: Case) -> list[str]:
    source = STATUS_TEST.format(case.status)
    source += ENVELOPE_TEST if case.status >= 400 else ""
    source += NAMES_TEST.format(case.names) if case.names else ""
    return script(source + "\n" + textwrap.dedent(case.tests))


def url(path: str) -> dict:
    path, _, query = path.partition("?")
    result = {
        "raw": "{{baseUrl}}" + path + (f"?{query}" if query else ""),
        "host": ["{{baseUrl}}"],
        "path": path.lstrip("/").split("/"),
    }
    if query:
        pairs = (pair.partition("=") for pair in query.split("&"))
        result["query"] = [{"key": key, "value": value} for key, _, value in pairs]
    return result


def item_id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def raw_body(raw: str, language: str = "") -> dict:
    """A raw body; its language, unless given, is json where it parses as JSON."""
    if not language:
        try:
            json.loads(raw)
            language = "json"
        except ValueError:
            language = "text"
    return {"mode": "raw", "raw": raw, "options": {"raw": {"language": language}}}


def request_of(case: Case) -> dict:
    json_type = {"key": "Content-Type", "value": "application/json"}
    headers = [json_type] if case.body is not None else []
    headers += [{"key": key, "value": value} for key, value in case.headers.items()]
    headers += [
        {"key": key, "value": value, "disabled": True, "description": SAMPLE_HEADER}
        for key, value in case.sample_headers.items()
    ]
    request: dict = {"method": case.method, "header": headers, "url": url(case.path)}
    if case.body is not None:
        raw = json.dumps(case.body, indent=2, ensure_ascii=False)
        request["body"] = raw_body(re.sub(r'"@number:(\w+)"', r"{{\1}}", raw), "json")
    if case.auth is NO_AUTH:
        request["auth"] = {"type": "noauth"}
    elif case.auth != OWNER:
        token = {"key": "token", "value": f"{{{{{case.auth}}}}}", "type": "string"}
        request["auth"] = {"type": "bearer", "bearer": [token]}
    return request


def item_of(case: Case, operation: tuple | None, primary: bool) -> dict:
    events = [{"listen": "test", "script": {"type": "text/javascript", "exec": test_script(case)}}]
    if case.prerequest:
        prerequest = {"type": "text/javascript", "exec": script(case.prerequest)}
        events.insert(0, {"listen": "prerequest", "script": prerequest})
    item = {"id": item_id(case.name), "name": case.name, "event": events}
    item["request"] = request_of(case)
    parts = []
    if operation and primary:
        method, path, details = operation
        parts.append(f"**{details.get('summary', '')}** (`{method} {path}`)")
        parts += [details["description"]] if details.get("description") else []
    parts += [case.description] if case.description else []
    if parts:
        item["request"]["description"] = "\n\n".join(parts)
    item["response"] = []
    return item


def skeleton(layout: dict) -> dict:
    folders = []
    for folder, cases in layout["folders"]:
        items = []
        for case in cases:
            operation = layout["operation_of"][case.name]
            primary = bool(operation) and layout["primaries"][operation[:2]] is case
            items.append(item_of(case, operation, primary))
        folders.append({"name": folder.name, "description": folder.description, "item": items})
    bearer = [{"key": "token", "value": "{{accessToken}}", "type": "string"}]
    collection = {
        "info": {
            "_postman_id": COLLECTION_ID,
            "name": "Tasklane API v1",
            "description": DESCRIPTION,
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "auth": {"type": "bearer", "bearer": bearer},
        "item": folders,
    }
    # Every variable the collection reads or saves, in order of first use.
    names = list(INITIAL_VALUES)
    for found in re.findall(r"\{\{(\w+)\}\}|save\(\\\"(\w+)\\\"", json.dumps(collection)):
        names += [name for name in found if name and name not in names]
    collection["variable"] = [
        {"key": name, "value": INITIAL_VALUES.get(name, "")} for name in names
    ]
    return collection


def environment_of(collection: dict) -> dict:
    def kind(name: str) -> str:
        return "secret" if re.search(r"token|password", name, re.I) else "default"

    return {
        "id": ENVIRONMENT_ID,
        "name": "Tasklane (local)",
        "values": [
            {"key": v["key"], "value": v["value"], "type": kind(v["key"]), "enabled": True}
            for v in collection["variable"]
        ],
        "_postman_variable_scope": "environment",
    }


def pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def example_of(case: Case, execution: dict) -> dict:
    sent, answer = execution["request"], execution["response"]
    shown = {key.lower() for key in case.headers} | SHOWN_REQUEST_HEADERS
    placeholder = TOKEN_PLACEHOLDERS.get(case.auth or "", "<access token>")
    headers = [
        {"key": h["key"], "value": h["value"]}
        if h["key"].lower() != "authorization"
        else {"key": h["key"], "value": f"Bearer {placeholder}"}
        for h in sent.get("header", [])
        if not h.get("disabled") and h["key"].lower() in shown
    ]
    query = [q for q in sent["url"].get("query", []) if not q.get("disabled")]
    path = "/" + "/".join(sent["url"]["path"])
    path += "?" + "&".join(f"{q['key']}={q.get('value') or ''}" for q in query) if query else ""
    original = {"method": sent["method"], "header": headers, "url": url(path)}
    if sent.get("body", {}).get("raw"):
        original["body"] = raw_body(pretty(sent["body"]["raw"]))
    stream = answer.get("stream") or {}
    response_headers = [
        {"key": h["key"], "value": h["value"]}
        for h in answer.get("header", [])
        if h["key"].lower() not in HIDDEN_RESPONSE_HEADERS
    ]
    content_type = [h["value"] for h in response_headers if h["key"].lower() == "content-type"]
    return {
        "id": item_id(f"{case.name} / example"),
        "name": case.name,
        "originalRequest": original,
        "status": answer["status"],
        "code": answer["code"],
        "_postman_previewlanguage": "json" if "json" in "".join(content_type) else "text",
        "header": response_headers,
        "cookie": [],
        "body": pretty(bytes(stream.get("data", [])).decode("utf-8")),
    }


def capture(collection: dict, environment: dict, base: str) -> dict:
    """Runs the collection with newman; each request's name → its real request and response."""
    with tempfile.TemporaryDirectory(prefix="tasklane-postman-build-") as scratch:
        draft, report, variables = (Path(scratch) / name for name in ("c.json", "r.json", "e.json"))
        draft.write_text(json.dumps(collection))
        variables.write_text(json.dumps(environment))
        reporter = ("--reporters", "json", "--reporter-json-export", str(report))
        status = run_collection(draft, base, *reporter, environment=variables)
        run = json.loads(report.read_text())["run"] if report.exists() else {}
    for execution in run.get("executions", []):
        answer = execution.get("response") or {}
        failed = [a for a in execution.get("assertions", []) if a.get("error")]
        mark = "FAIL" if failed or not answer else "ok  "
        print(f"{mark} {answer.get('code', '---')} {execution['item']['name']}")
        for assertion in failed:
            print(f"       {assertion['assertion']}: {assertion['error'].get('message')}")
    if status != 0 or run.get("failures"):
        raise BuildError(f"newman failed (exit {status}); nothing written")
    return {e["item"]["name"]: e for e in run["executions"]}


def attach_examples(collection: dict, layout: dict, executions: dict) -> None:
    cases = {case.name: case for _, folder_cases in layout["folders"] for case in folder_cases}
    examples = {name: example_of(cases[name], executions[name]) for name in cases}
    by_operation: dict[tuple, list[str]] = {}
    for name, operation in layout["operation_of"].items():
        if operation:
            by_operation.setdefault(operation[:2], []).append(name)
    for item in (item for folder in collection["item"] for item in folder["item"]):
        operation = layout["operation_of"][item["name"]]
        own = [item["name"]]
        if operation and layout["primaries"][operation[:2]].name == item["name"]:
            others = [n for n in by_operation[operation[:2]] if n != item["name"]]
            own += sorted(others, key=lambda name: examples[name]["code"])
        item["response"] = [examples[name] for name in own]


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent="\t", ensure_ascii=False) + "\n")  # as Postman exports


def main() -> int:
    newman()  # installed before the server starts, so its start-up is not timed against npm
    with local_server() as base:
        with urllib.request.urlopen(base + "/api/schema/?format=json", timeout=30) as answer:
            schema = json.load(answer)
        try:
            layout = plan(schema)
            collection = skeleton(layout)
            environment = environment_of(collection)
            executions = capture(collection, environment, base)
        except BuildError as error:
            print(f"The collection cannot be built:\n{error}", file=sys.stderr)
            return 1
    attach_examples(collection, layout, executions)
    write_json(COLLECTION, collection)
    write_json(ENVIRONMENT, environment)
    requests = sum(len(folder["item"]) for folder in collection["item"])
    examples = sum(len(item["response"]) for f in collection["item"] for item in f["item"])
    print(
        f"Wrote {COLLECTION.name} ({requests} requests, {examples} examples), {ENVIRONMENT.name}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
