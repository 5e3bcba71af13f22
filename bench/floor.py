"""The floor for the task list: a bare ASGI app, bench-only, never in the product's URLs.

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
"""

import asyncio
import json
import os
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import jwt
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
PAGE = """
    SELECT t.id, t.project_id, t.title, t.description, t.status, t.due_date, t.assignee_id,
           a.email, a.name, t.created_by_id, c.email, c.name,
           t.created_at, t.updated_at, t.completed_at, t.priority, t.parent_id, t.position,
           (SELECT coalesce(json_agg(json_build_object('id', l.id, 'name', l.name,
                                                       'color', l.color)
                                     ORDER BY lower(l.name), l.id), '[]')
            FROM tasks_task_labels tl JOIN tasks_label l ON l.id = tl.label_id
            WHERE tl.task_id = t.id),
           (SELECT count(*) FROM tasks_task s WHERE s.parent_id = t.id),
           (SELECT count(*) FROM tasks_task s WHERE s.parent_id = t.id
                                               AND s.status = 'completed')
    FROM unnest(%s::bigint[]) AS p(id)
    CROSS JOIN LATERAL (
        SELECT * FROM tasks_task t WHERE t.project_id = p.id {filters} ORDER BY {order} LIMIT %s
    ) t
    LEFT JOIN accounts_user a ON a.id = t.assignee_id
    LEFT JOIN accounts_user c ON c.id = t.created_by_id
    ORDER BY {order} LIMIT %s OFFSET %s
"""

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
    priority, parent_id, position, labels, subtasks, completed_subtasks = row[15:]
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
