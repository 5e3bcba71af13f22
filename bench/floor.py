"""The floor for the task list and the reorder: a bare ASGI app, bench-only, never in the
product's URLs.

It answers `GET /api/v1/tasks/` with the very JSON Tasklane gives (bench/run.py compares the
two before measuring) from hand-written SQL run with psycopg, and nothing else: the same
bearer token checked (signature, expiry, type), the caller's projects, then a count and the
page with its two users joined, rendered with the standard library's json. The page is the
top of each project's own top-N (LATERAL, one index range per project), merged: its cost
follows the page and the caller's projects rather than the table, whatever the filter.
run.py serves it with the Procfile's own uvicorn command and flags, so the gap between the two
is what Django, DRF and the ORM cost over the database and the server.

    uvicorn bench.floor:application ...   (DATABASE_URL, DJANGO_SECRET_KEY as for Tasklane)

Supports what the bench asks: page, page_size, status, due, assignee, search, project,
priority, label, parent, ordering. Each response says how many SQL statements it ran (`x-queries`).

`POST /api/v1/tasks/{id}/reorder/` with `before_id` or `after_id` does what Tasklane's reorder
does to the database, in three statements in one transaction: the task's project locked FOR NO
KEY UPDATE with the caller's role (404 for a non-member, 403 for a viewer); the task locked with
its neighbour's key and the next key on that side; the UPDATE, returning the task as the list
renders it. The key is chosen as Tasklane chooses it (the same library, the same respacing of
the whole project past REBALANCE_LENGTH). It writes no activity (Tasklane writes none for a
reorder either) but, unlike Tasklane, announces nothing: Tasklane's figure includes reading
the project's webhooks and sending `task.updated` to its sockets through Redis.
"""

import asyncio
import json
import os
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import jwt
from fractional_indexing import FIError, generate_key_between, generate_n_keys_between
from psycopg_pool import AsyncConnectionPool

PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
STATUS_RANK = "CASE t.status WHEN 'pending' THEN 0 WHEN 'in-progress' THEN 1 ELSE 2 END"
PRIORITY_RANK = (
    "CASE t.priority WHEN 'none' THEN 0 WHEN 'low' THEN 1 WHEN 'medium' THEN 2 "
    "WHEN 'high' THEN 3 WHEN 'urgent' THEN 4 END"
)
ORDER_COLUMNS = {
    "created_at": "t.created_at",
    "updated_at": "t.updated_at",
    "title": "t.title",
    "status": STATUS_RANK,
    "due_date": "t.due_date",
    "priority": PRIORITY_RANK,
    "position": "t.position",
}
CALLER = """
    SELECT u.timezone, ARRAY(SELECT m.project_id FROM projects_membership m WHERE m.user_id = u.id)
    FROM accounts_user u WHERE u.id = %s AND u.is_active
"""
# A task's columns as render() reads them, from `t` with its users `a` and `c` joined (USERS).
TASK_COLUMNS = """
    t.id, t.project_id, t.title, t.description, t.status, t.due_date, t.assignee_id,
    a.email, a.name, t.created_by_id, c.email, c.name,
    t.created_at, t.updated_at, t.completed_at, t.priority, t.parent_id, t.position,
    (SELECT coalesce(json_agg(json_build_object('id', l.id, 'name', l.name, 'color', l.color)
                              ORDER BY lower(l.name), l.id), '[]')
     FROM tasks_task_labels tl JOIN tasks_label l ON l.id = tl.label_id
     WHERE tl.task_id = t.id),
    (SELECT count(*) FROM tasks_task s WHERE s.parent_id = t.id),
    (SELECT count(*) FROM tasks_task s WHERE s.parent_id = t.id AND s.status = 'completed'),
    (SELECT count(*) FROM tasks_comment c WHERE c.task_id = t.id)
"""
USERS = """
    LEFT JOIN accounts_user a ON a.id = t.assignee_id
    LEFT JOIN accounts_user c ON c.id = t.created_by_id
"""
PAGE = f"""
    SELECT {TASK_COLUMNS}
    FROM unnest(%s::bigint[]) AS p(id)
    CROSS JOIN LATERAL (
        SELECT * FROM tasks_task t WHERE t.project_id = p.id {{filters}} ORDER BY {{order}} LIMIT %s
    ) t
    {USERS}
    ORDER BY {{order}} LIMIT %s OFFSET %s
"""
# The reorder (module docstring). Its project, locked, with the caller's role and timezone.
REORDER_PROJECT = """
    SELECT p.id,
           (SELECT m.role FROM projects_membership m
            WHERE m.project_id = p.id AND m.user_id = u.id),
           u.timezone
    FROM accounts_user u, projects_project p
    WHERE u.id = %(user)s AND u.is_active
      AND p.id = (SELECT t.project_id FROM tasks_task t WHERE t.id = %(task)s)
    FOR NO KEY UPDATE OF p
"""
# The task, locked, with its neighbour's key and the next key past the neighbour on that side.
REORDER_NEIGHBOURS = """
    SELECT t.position, n.position,
           (SELECT s.position FROM tasks_task s
            WHERE s.project_id = t.project_id AND s.id <> t.id AND s.position {side} n.position
            ORDER BY s.position {direction} LIMIT 1)
    FROM tasks_task t
    LEFT JOIN tasks_task n ON n.id = %(neighbour)s AND n.project_id = t.project_id AND n.id <> t.id
    WHERE t.id = %(task)s AND t.project_id = %(project)s
    FOR UPDATE OF t
"""
REORDERED = f"""
    WITH t AS (
        UPDATE tasks_task SET position = %(key)s, updated_at = now() WHERE id = %(task)s RETURNING *
    )
    SELECT {TASK_COLUMNS} FROM t {USERS}
"""
TASK = f"SELECT {TASK_COLUMNS} FROM tasks_task t {USERS} WHERE t.id = %s"
REBALANCE_LENGTH = 210  # tasks.ordering's: a longer key respaces the project
REORDER_PATH = re.compile(r"/api/v1/tasks/(?P<id>[0-9]{1,18})/reorder/")

_pool: AsyncConnectionPool | None = None
_pool_lock = asyncio.Lock()


class BadRequest(Exception):
    pass


async def pool() -> AsyncConnectionPool:
    """Opened on the first request: the Procfile runs uvicorn with `--lifespan off`."""
    global _pool
    async with _pool_lock:
        if _pool is None:
            size = int(os.environ.get("HTTP_THREADS") or 4)  # Tasklane's concurrent requests
            _pool = AsyncConnectionPool(
                os.environ["DATABASE_URL"], min_size=size, max_size=size, open=False
            )
            await _pool.open(wait=True)
    return _pool


def caller_id(headers: dict[bytes, bytes]) -> int | None:
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme != "Bearer" or not token:
        return None
    try:
        claims = jwt.decode(token, os.environ["DJANGO_SECRET_KEY"], algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    if claims.get("token_type") != "access":
        return None
    return int(claims["user_id"])


def timestamp(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def user(user_id, email, name) -> dict | None:
    return None if user_id is None else {"id": user_id, "email": email, "name": name}


def render(row, today) -> dict:
    (task_id, project_id, title, description, status, due_date, assignee_id) = row[:7]
    (assignee_email, assignee_name, creator_id, creator_email, creator_name) = row[7:12]
    created_at, updated_at, completed_at = row[12:15]
    priority, parent_id, position, labels, subtasks, completed_subtasks, comments = row[15:]
    return {
        "id": task_id,
        "project_id": project_id,
        "title": title,
        "description": description,
        "status": status,
        "priority": priority,
        "due_date": due_date.isoformat() if due_date else None,
        "assignee_id": assignee_id,
        "assignee": user(assignee_id, assignee_email, assignee_name),
        "label_ids": [label["id"] for label in labels],
        "labels": labels,
        "parent_id": parent_id,
        "subtask_count": subtasks,
        "completed_subtask_count": completed_subtasks,
        "comment_count": comments,
        "position": position,
        "created_by": user(creator_id, creator_email, creator_name),
        "created_at": timestamp(created_at),
        "updated_at": timestamp(updated_at),
        "completed_at": timestamp(completed_at),
        "is_overdue": due_date is not None and due_date < today and status != "completed",
    }


def positive(query: dict, name: str, default: int) -> int:
    raw = query.get(name, [""])[-1]
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise BadRequest(name)
    return int(raw)


def conditions(query: dict, user_id: int, today) -> tuple[list[str], list]:
    """The WHERE clause of the list's filters, after `project_id = ANY(caller's projects)`."""
    where, params = [], []
    if statuses := [s for value in query.get("status", []) for s in value.split(",") if s]:
        where.append("t.status = ANY(%s)")
        params.append(statuses)
    due = query.get("due", [""])[-1]
    if due == "overdue":
        where.append("t.due_date < %s AND t.status <> 'completed'")
        params.append(today)
    elif due == "today":
        where.append("t.due_date = %s")
        params.append(today)
    elif due == "future":
        where.append("t.due_date > %s")
        params.append(today)
    elif due == "none":
        where.append("t.due_date IS NULL")
    assignee = query.get("assignee", [""])[-1]
    if assignee == "me":
        where.append("t.assignee_id = %s")
        params.append(user_id)
    elif assignee == "none":
        where.append("t.assignee_id IS NULL")
    elif assignee:
        where.append("t.assignee_id = %s")
        params.append(int(assignee))
    if search := query.get("search", [""])[-1]:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("(t.title ILIKE %s OR t.description ILIKE %s)")
        params += [pattern, pattern]
    if priorities := [p for value in query.get("priority", []) for p in value.split(",") if p]:
        where.append("t.priority = ANY(%s)")
        params.append(priorities)
    if labels := [part for value in query.get("label", []) for part in value.split(",") if part]:
        ids = [int(part) for part in labels if part != "none"]
        carrying = "EXISTS (SELECT 1 FROM tasks_task_labels tl WHERE tl.task_id = t.id{})"
        either = [carrying.format(" AND tl.label_id = ANY(%s)")] if ids else []
        if "none" in labels:
            either.append(f"NOT {carrying.format('')}")
        where.append(f"({' OR '.join(either)})")
        params += [ids] if ids else []
    parent = query.get("parent", [""])[-1]
    if parent == "none":
        where.append("t.parent_id IS NULL")
    elif parent:
        where.append("t.parent_id = %s")
        params.append(int(parent))
    if project := query.get("project", [""])[-1]:
        where.append("t.project_id = %s")
        params.append(int(project))
    return where, params


def order_by(query: dict) -> str:
    terms = []
    for term in (query.get("ordering", [""])[-1] or "-created_at").split(","):
        descending = term.startswith("-")
        column = ORDER_COLUMNS.get(term.removeprefix("-"))
        if column is None:
            raise BadRequest("ordering")
        terms.append(f"{column} {'DESC' if descending else 'ASC'}")
        if term.removeprefix("-") == "due_date":
            terms[-1] += " NULLS LAST"
    return ", ".join([*terms, "t.id"])


def page_link(url: str, page: int | None) -> str | None:
    """DRF's replace_query_param / remove_query_param, so the links match Tasklane's."""
    if page is None:
        return None
    scheme, netloc, path, query, _ = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    if page == 1:
        params.pop("page", None)
    else:
        params["page"] = [str(page)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), ""))


async def task_list(scope, headers) -> tuple[int, dict, int]:
    user_id = caller_id(headers)
    if user_id is None:
        return 401, {"detail": "not authenticated"}, 0
    query_string = scope["query_string"].decode("latin-1")
    query = parse_qs(query_string, keep_blank_values=True)
    page = positive(query, "page", 1)
    size = min(positive(query, "page_size", PAGE_SIZE), MAX_PAGE_SIZE)
    async with (await pool()).connection() as connection:
        cursor = await connection.execute(CALLER, [user_id])
        caller = await cursor.fetchone()
        if caller is None:
            return 401, {"detail": "not authenticated"}, 1
        timezone, project_ids = caller
        today = datetime.now(ZoneInfo(timezone)).date()
        filters, params = conditions(query, user_id, today)
        where = " AND ".join(["t.project_id = ANY(%s)", *filters])
        cursor = await connection.execute(
            f"SELECT count(*) FROM tasks_task t WHERE {where}", [project_ids, *params]
        )
        (count,) = await cursor.fetchone()
        offset = (page - 1) * size
        sql = PAGE.format(filters="".join(f" AND {f}" for f in filters), order=order_by(query))
        cursor = await connection.execute(sql, [project_ids, *params, offset + size, size, offset])
        rows = await cursor.fetchall()
    if page > 1 and not rows:
        return 404, {"detail": "Invalid page."}, 3
    host = headers.get(b"host", b"localhost").decode("latin-1")
    url = f"http://{host}{scope['path']}" + (f"?{query_string}" if query_string else "")
    body = {
        "count": count,
        "next": page_link(url, page + 1 if page * size < count else None),
        "previous": page_link(url, page - 1 if page > 1 else None),
        "results": [render(row, today) for row in rows],
    }
    return 200, body, 3


async def read_body(receive) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


def reorder_request(body: bytes) -> tuple[str, int]:
    """("before" or "after", the neighbour's id) from `{"before_id": n}` or `{"after_id": n}`."""
    try:
        data = json.loads(body)
    except ValueError:
        raise BadRequest("body") from None
    named = [side for side in ("before", "after") if data.get(f"{side}_id") is not None]
    if not isinstance(data, dict) or len(named) != 1:
        raise BadRequest("before_id")
    neighbour = data[f"{named[0]}_id"]
    if not isinstance(neighbour, int) or isinstance(neighbour, bool):
        raise BadRequest(f"{named[0]}_id")
    return named[0], neighbour


async def respace(connection, project_id: int, task_id: int, after: str | None) -> int:
    """tasks.services._respace: every key of the project evenly spaced again, in their order
    with the task right after the key `after`; returns the statements it ran."""
    cursor = await connection.execute(
        "SELECT id, position FROM tasks_task WHERE project_id = %s AND id <> %s "
        "ORDER BY position, id",
        [project_id, task_id],
    )
    rows = await cursor.fetchall()
    place = sum(1 for _, position in rows if after is not None and position <= after)
    rows.insert(place, (task_id, None))
    keys = generate_n_keys_between(None, None, len(rows))
    changed = [(pk, key) for (pk, position), key in zip(rows, keys, strict=True) if position != key]
    await connection.execute(
        "UPDATE tasks_task t SET position = v.key, updated_at = now() "
        "FROM unnest(%s::bigint[], %s::text[]) AS v(id, key) WHERE t.id = v.id",
        [[pk for pk, _ in changed], [key for _, key in changed]],
    )
    return 2


async def task_reorder(task_id: int, headers, body: bytes) -> tuple[int, dict, int]:
    user_id = caller_id(headers)
    if user_id is None:
        return 401, {"detail": "not authenticated"}, 0
    side, neighbour_id = reorder_request(body)
    async with (await pool()).connection() as connection, connection.transaction():
        cursor = await connection.execute(REORDER_PROJECT, {"user": user_id, "task": task_id})
        project = await cursor.fetchone()
        if project is None or project[1] is None:
            return 404, {"detail": "Not found."}, 1
        if project[1] == "viewer":
            return 403, {"detail": "Viewers may read this project's tasks but not change them."}, 1
        sql = REORDER_NEIGHBOURS.format(
            side="<" if side == "before" else ">",
            direction="DESC" if side == "before" else "ASC",
        )
        cursor = await connection.execute(
            sql, {"task": task_id, "neighbour": neighbour_id, "project": project[0]}
        )
        row = await cursor.fetchone()
        if row is None:
            return 404, {"detail": "Not found."}, 2  # moved meanwhile
        current, neighbour, beyond = row
        if neighbour is None:
            return 400, {"detail": f"bad parameter {side}_id"}, 2
        lower, upper = (beyond, neighbour) if side == "before" else (neighbour, beyond)
        try:
            key = generate_key_between(lower, upper)
            if key == current:
                key = generate_key_between(lower, key)
        except FIError:
            key = None
        queries = 2
        if key is None or len(key) > REBALANCE_LENGTH:
            queries += await respace(connection, project[0], task_id, lower)
            cursor = await connection.execute(TASK, [task_id])
        else:
            cursor = await connection.execute(REORDERED, {"key": key, "task": task_id})
        task = await cursor.fetchone()
    return 200, render(task, datetime.now(ZoneInfo(project[2])).date()), queries + 1


async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    headers = dict(scope["headers"])
    queries = 0
    if scope["path"] == "/api/v1/tasks/" and scope["method"] == "GET":
        try:
            status, body, queries = await task_list(scope, headers)
        except (BadRequest, ValueError) as error:
            status, body = 400, {"detail": f"bad parameter {error}"}
    elif (reorder := REORDER_PATH.fullmatch(scope["path"])) and scope["method"] == "POST":
        try:
            status, body, queries = await task_reorder(
                int(reorder["id"]), headers, await read_body(receive)
            )
        except BadRequest as error:
            status, body = 400, {"detail": f"bad parameter {error}"}
    elif scope["path"] == "/health/live/":
        status, body = 200, {"status": "ok"}
    else:
        status, body = 404, {"detail": "Not found."}
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-queries", str(queries).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
