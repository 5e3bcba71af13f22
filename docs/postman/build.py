"""Rebuilds the Postman collection and its environment file from the running API.

    .venv/bin/python docs/postman/build.py

1. Starts a local server (`run.local_server`, as `make postman` does) and reads the OpenAPI
   schema it serves. Every operation must have a case in `recipes.py`: one without stops the
   build, naming the operation and a case to start from; so does a case whose URL is not in
   the schema (unless marked `off_schema`). An operation that needs a token and has no 401
   case gets one: its first success request again, without a token.
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

from recipes import FOLDERS, INITIAL_VALUES, NO_AUTH, OWNER, TOKEN_PLACEHOLDERS, Case
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
    "connection",
    "content-length",
    "cross-origin-opener-policy",
    "date",
    "referrer-policy",
    "strict-transport-security",
    "transfer-encoding",
    "vary",
    "x-content-type-options",
    "x-frame-options",
    "x-request-id",
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
SAMPLE_HEADER = (
    "The header as you would write it yourself; not sent (unchecked): the collection's "
    "bearer auth sends {{accessToken}}."
)
NAMES_TEST = """
pm.test("names {0}", () => pm.expect(pm.response.json().errors[0].attr).to.eql("{0}"));
"""
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


def schema_operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in METHODS
    ]


def case_path(case: Case) -> str:
    return case.path.split("?", 1)[0]


def plan(operations: list[tuple[str, str, dict]]) -> dict[str, tuple]:
    """Each case's operation, and which case carries the operation's examples."""
    cases = [case for folder in FOLDERS for case in folder.cases]
    names = [case.name for case in cases]
    problems = [
        f"two cases are named {name!r}" for name in sorted({n for n in names if names.count(n) > 1})
    ]
    patterns = [
        (method, path, path_pattern(path), operation) for method, path, operation in operations
    ]
    operation_of: dict[str, tuple[str, str, dict] | None] = {}
    for case in cases:
        found = [
            (method, path, operation)
            for method, path, pattern, operation in patterns
            if method == case.method and pattern.fullmatch(case_path(case))
        ]
        if case.off_schema:
            if found:
                problems.append(f"{case.name!r} is marked off_schema but matches {found[0][:2]}")
            operation_of[case.name] = None
        elif len(found) != 1:
            problems.append(
                f"{case.name!r} ({case.method} {case.path}) matches {len(found)} schema "
                "operations instead of one"
            )
        else:
            operation_of[case.name] = found[0]

    covered = {op[:2] for op in operation_of.values() if op}
    missing = [
        (method, path, op) for method, path, op in operations if (method, path) not in covered
    ]
    for method, path, operation in missing:
        example_path = re.sub(r"\{([^/{}]+)\}", r"{{\1}}", path)
        problems.append(
            f"no recipe for {method} {path} ({operation.get('operationId')}: "
            f"{operation.get('summary', '')}). Add a case to a folder in "
            f"docs/postman/recipes.py, for example\n"
            f'        Case("{operation.get("summary") or "..."}", "{method}", '
            f'"{example_path}", 200),\n'
            "    with its body, the variables it needs and the errors it can answer."
        )

    primaries: dict[tuple[str, str], Case] = {}
    for case in cases:
        operation = operation_of.get(case.name)
        if not operation:
            continue
        key = operation[:2]
        if case.primary:
            if primaries.get(key) and primaries[key].primary:
                problems.append(f"{key} has two primary cases")
            primaries[key] = case
        elif key not in primaries and 200 <= case.status < 300:
            primaries[key] = case
    for key in covered - set(primaries):
        problems.append(f"{key[0]} {key[1]} has no success case")
    if problems:
        raise BuildError("\n".join(f"  - {problem}" for problem in problems))

    # An operation that needs a token, without a 401 case of its own, gets one: its primary
    # request again, sent without a token, right after it.
    answered_401 = {
        operation_of[c.name][:2] for c in cases if c.status == 401 and operation_of[c.name]
    }
    folders = []
    for folder in FOLDERS:
        folder_cases = []
        for case in folder.cases:
            folder_cases.append(case)
            operation = operation_of[case.name]
            if not operation or primaries[operation[:2]] is not case:
                continue
            if operation[:2] in answered_401 or not needs_token(operation[2]):
                continue
            without = replace(
                case,
                name=f"{case.name}, without a token (401)",
                status=401,
                auth=NO_AUTH,
                headers={},
                sample_headers={},
                tests="",
                prerequest="",
                description="",
                primary=False,
            )
            folder_cases.append(without)
            operation_of[without.name] = operation
        folders.append((folder, folder_cases))
    return {"folders": folders, "operation_of": operation_of, "primaries": primaries}


def needs_token(operation: dict) -> bool:
    """Whether the schema says the operation needs credentials (`{}` means none)."""
    return bool(operation.get("security")) and {} not in operation["security"]


def script(source: str) -> list[str]:
    lines = [line for line in textwrap.dedent(source).strip().splitlines() if line.strip()]
    if any("save(" in line for line in lines):
        lines.insert(0, SAVE_HELPER)
    return lines


def test_script(case: Case) -> list[str]:
    source = STATUS_TEST.format(case.status)
    if case.status >= 400:
        source += ENVELOPE_TEST
    if case.names:
        source += NAMES_TEST.format(case.names)
    return script(source + "\n" + textwrap.dedent(case.tests))


def raw_body(body: dict) -> str:
    text = json.dumps(body, indent=2, ensure_ascii=False)
    return re.sub(r'"@number:(\w+)"', r"{{\1}}", text)


def url(path: str) -> dict:
    path, _, query = path.partition("?")
    result = {
        "raw": "{{baseUrl}}" + path + (f"?{query}" if query else ""),
        "host": ["{{baseUrl}}"],
        "path": path.lstrip("/").split("/"),
    }
    if query:
        result["query"] = [
            {"key": key, "value": value}
            for key, _, value in (pair.partition("=") for pair in query.split("&"))
        ]
    return result


def item_id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def request_of(case: Case) -> dict:
    headers = []
    if case.body is not None:
        headers.append({"key": "Content-Type", "value": "application/json"})
    headers += [{"key": key, "value": value} for key, value in case.headers.items()]
    headers += [
        {"key": key, "value": value, "disabled": True, "description": SAMPLE_HEADER}
        for key, value in case.sample_headers.items()
    ]
    request: dict = {"method": case.method, "header": headers, "url": url(case.path)}
    if case.body is not None:
        request["body"] = {
            "mode": "raw",
            "raw": raw_body(case.body),
            "options": {"raw": {"language": "json"}},
        }
    if case.auth is NO_AUTH:
        request["auth"] = {"type": "noauth"}
    elif case.auth != OWNER:
        request["auth"] = {
            "type": "bearer",
            "bearer": [{"key": "token", "value": f"{{{{{case.auth}}}}}", "type": "string"}],
        }
    return request


def description_of(case: Case, operation: tuple | None, primary: bool) -> str:
    parts = []
    if operation and primary:
        method, path, details = operation
        parts.append(f"**{details.get('summary', '')}** (`{method} {path}`)")
        if details.get("description"):
            parts.append(details["description"])
    if case.description:
        parts.append(case.description)
    return "\n\n".join(parts)


def item_of(case: Case, operation: tuple | None, primary: bool) -> dict:
    events = []
    if case.prerequest:
        events.append(
            {
                "listen": "prerequest",
                "script": {"type": "text/javascript", "exec": script(case.prerequest)},
            }
        )
    events.append(
        {"listen": "test", "script": {"type": "text/javascript", "exec": test_script(case)}}
    )
    item = {
        "id": item_id(case.name),
        "name": case.name,
        "event": events,
        "request": request_of(case),
    }
    description = description_of(case, operation, primary)
    if description:
        item["request"]["description"] = description
    item["response"] = []
    return item


def collection_variables(collection: dict) -> list[str]:
    """Every variable the collection reads or saves, in order of first use."""
    text = json.dumps(collection)
    names = list(INITIAL_VALUES)
    for name in re.findall(r"\{\{(\w+)\}\}|save\(\\\"(\w+)\\\"", text):
        for found in name:
            if found and found not in names:
                names.append(found)
    return names


def skeleton(layout: dict) -> dict:
    folders = []
    for folder, cases in layout["folders"]:
        items = []
        for case in cases:
            operation = layout["operation_of"][case.name]
            primary = bool(operation) and layout["primaries"][operation[:2]] is case
            items.append(item_of(case, operation, primary))
        folders.append({"name": folder.name, "description": folder.description, "item": items})
    collection = {
        "info": {
            "_postman_id": COLLECTION_ID,
            "name": "Tasklane API v1",
            "description": DESCRIPTION,
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "auth": {
            "type": "bearer",
            "bearer": [{"key": "token", "value": "{{accessToken}}", "type": "string"}],
        },
        "item": folders,
    }
    collection["variable"] = [
        {"key": name, "value": INITIAL_VALUES.get(name, "")}
        for name in collection_variables(collection)
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


def is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def example_of(case: Case, execution: dict) -> dict:
    sent, answer = execution["request"], execution["response"]
    declared = {key.lower() for key in case.headers} | SHOWN_REQUEST_HEADERS
    placeholder = TOKEN_PLACEHOLDERS.get(case.auth or "", "<access token>")
    headers = []
    for header in sent.get("header", []):
        if header.get("disabled") or header["key"].lower() not in declared:
            continue
        value = header["value"]
        if header["key"].lower() == "authorization":
            value = f"Bearer {placeholder}"
        headers.append({"key": header["key"], "value": value})
    query = [q for q in sent["url"].get("query", []) if not q.get("disabled")]
    raw_url = "{{baseUrl}}/" + "/".join(sent["url"]["path"])
    if query:
        raw_url += "?" + "&".join(f"{q['key']}={q.get('value') or ''}" for q in query)
    original = {
        "method": sent["method"],
        "header": headers,
        "url": url(raw_url[len("{{baseUrl}}") :]),
    }
    if sent.get("body", {}).get("raw"):
        raw = sent["body"]["raw"]
        original["body"] = {
            "mode": "raw",
            "raw": pretty(raw),
            "options": {"raw": {"language": "json" if is_json(raw) else "text"}},
        }
    stream = answer.get("stream") or {}
    body = bytes(stream.get("data", [])).decode("utf-8")
    response_headers = [
        {"key": h["key"], "value": h["value"]}
        for h in answer.get("header", [])
        if h["key"].lower() not in HIDDEN_RESPONSE_HEADERS
    ]
    content_type = next(
        (h["value"] for h in response_headers if h["key"].lower() == "content-type"), ""
    )
    return {
        "id": item_id(f"{case.name} / example"),
        "name": case.name,
        "originalRequest": original,
        "status": answer["status"],
        "code": answer["code"],
        "_postman_previewlanguage": "json" if "json" in content_type else "text",
        "header": response_headers,
        "cookie": [],
        "body": pretty(body),
    }


def capture(collection: dict, environment: dict, base: str, layout: dict) -> dict:
    """Runs the collection with newman; each case's name → its real request and response."""
    with tempfile.TemporaryDirectory(prefix="tasklane-postman-build-") as scratch:
        draft = Path(scratch) / "collection.json"
        report = Path(scratch) / "report.json"
        variables = Path(scratch) / "environment.json"
        draft.write_text(json.dumps(collection))
        variables.write_text(json.dumps(environment))
        status = run_collection(
            draft,
            base,
            "--reporters",
            "json",
            "--reporter-json-export",
            str(report),
            environment=variables,
        )
        run = json.loads(report.read_text())["run"] if report.exists() else {}
    executions = run.get("executions", [])
    names = {item_id(case.name): case.name for _, cases in layout["folders"] for case in cases}
    for execution in executions:
        answer = execution.get("response") or {}
        failed = [a for a in execution.get("assertions", []) if a.get("error")]
        mark = "FAIL" if failed or not answer else "ok  "
        print(f"{mark} {answer.get('code', '---')} {execution['item']['name']}")
        for assertion in failed:
            print(f"       {assertion['assertion']}: {assertion['error'].get('message')}")
    if status != 0 or run.get("failures"):
        raise BuildError(f"newman failed (exit {status}); nothing written")
    return {names[e["item"]["id"]]: e for e in executions}


def attach_examples(collection: dict, layout: dict, executions: dict) -> None:
    cases = {case.name: case for _, folder_cases in layout["folders"] for case in folder_cases}
    examples = {name: example_of(cases[name], executions[name]) for name in cases}
    by_operation: dict[tuple, list[str]] = {}
    for name, operation in layout["operation_of"].items():
        if operation:
            by_operation.setdefault(operation[:2], []).append(name)
    for folder in collection["item"]:
        for item in folder["item"]:
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
        operations = schema_operations(schema)
        try:
            layout = plan(operations)
        except BuildError as error:
            print(f"The collection cannot be built:\n{error}", file=sys.stderr)
            return 1
        collection = skeleton(layout)
        environment = environment_of(collection)
        try:
            executions = capture(collection, environment, base, layout)
        except BuildError as error:
            print(error, file=sys.stderr)
            return 1
    attach_examples(collection, layout, executions)
    write_json(COLLECTION, collection)
    write_json(ENVIRONMENT, environment)
    requests = sum(len(folder["item"]) for folder in collection["item"])
    examples = sum(len(item["response"]) for f in collection["item"] for item in f["item"])
    print(
        f"Wrote {COLLECTION.name} ({len(operations)} operations, {requests} requests, "
        f"{examples} saved examples) and {ENVIRONMENT.name}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
