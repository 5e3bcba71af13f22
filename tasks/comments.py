"""Every write to a task's comments, each in one transaction; views have already checked 404
and 403 (the admin's operator writes as themselves, member or not).

A module of its own beside tasks/services.py, which holds the task and label writes: comments
share none of their locking of positions, trees and labels, only the project lock
(`_lock_projects`) that every write inside a project takes first.

Each write publishes its event and the notifications it makes in one `publish` call
(core.events: the event reaches the sockets, the change feed and the webhooks; the notices the
notifications app). Comments are not activity entries.
"""

from django.db import connection, transaction

from accounts.models import User
from core.events import Notice, publish
from core.exceptions import Invalid, NotFound, PermissionDenied
from projects.models import Membership
from tasks import events
from tasks.models import Comment, Task
from tasks.services import _lock_projects

NO_SUCH_MENTION = "Mention only members of the task's project."
TOO_MANY_MENTIONS = "Mention at most 20 people in a comment."
NOT_THE_AUTHOR = "Only the comment's author may edit it."

# Notification verbs (notifications.models.Verb's values: tasks does not import that app).
MENTIONED = "mentioned"
COMMENTED = "commented"

_MEMBERSHIP, _USER = Membership._meta, User._meta
_LOCK_MEMBERS_SQL = (
    f"SELECT u.{_USER.pk.column}, u.{_USER.get_field('email').column}, "  # noqa: S608 (names)
    f"u.{_USER.get_field('name').column} FROM {_MEMBERSHIP.db_table} m "
    f"JOIN {_USER.db_table} u ON u.{_USER.pk.column} = m.{_MEMBERSHIP.get_field('user').column} "
    f"WHERE m.{_MEMBERSHIP.get_field('project').column} = %s "
    f"AND m.{_MEMBERSHIP.get_field('user').column} = ANY(%s) "
    f"ORDER BY m.{_MEMBERSHIP.pk.column} FOR KEY SHARE OF m"
)


_TASK = Task._meta
_LOCK_TASK_SQL = (
    f"SELECT {_TASK.pk.column}, {_TASK.get_field('project').column}, "  # noqa: S608 (names)
    f"{_TASK.get_field('created_by').column}, {_TASK.get_field('assignee').column} "
    f"FROM {_TASK.db_table} WHERE {_TASK.pk.column} = %s FOR SHARE"
)


def _lock(
    task: Task, *, actor: User, as_member: bool, mention_ids: list[int] | None = None
) -> tuple[Task, list[User] | None]:
    """Hold what a comment write needs until commit, in the order every write inside a project
    takes its locks: the task's project (FOR KEY SHARE, tasks.services._lock_projects: a
    project's deletion waits), the memberships of the users to mention (`_mentioned`), then
    the task's row FOR SHARE (a move or deletion of the task waits for the comment, or went
    first: the comment then follows the task to its project, or is a 404; other comments on
    the task do not wait). Returns the task (its project, creator and assignee) and the users
    mentioned (None when `mention_ids` is None).

    With `as_member` (the API) the actor must still be a member of the task's project (within
    their token), viewers included: 404 otherwise, as for a missing task.
    """
    for _ in range(2):  # moved between the locks: hold the task's new project instead
        projects = _lock_projects({task.project_id}, member=actor if as_member else None)
        project = projects.get(task.project_id)
        if project is None or (as_member and not project.is_member):
            raise NotFound()
        mentioned = None if mention_ids is None else _mentioned(task.project_id, mention_ids)
        locked = _lock_task_row(task.pk)
        if locked.project_id == task.project_id:
            return locked, mentioned
        task = locked
    raise NotFound()


def _lock_task_row(task_id: int) -> Task:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_TASK_SQL, [task_id])
            row = cursor.fetchone()
    else:  # one writing transaction at a time: a plain read is enough
        fields = ("pk", "project_id", "created_by_id", "assignee_id")
        row = Task.objects.filter(pk=task_id).values_list(*fields).first()
    if row is None:
        raise NotFound()
    pk, project_id, created_by_id, assignee_id = row
    return Task(pk=pk, project_id=project_id, created_by_id=created_by_id, assignee_id=assignee_id)


def _lock_members(project_id: int, user_ids: list[int]) -> dict[int, User]:
    """The users among `user_ids` who are members of the project (viewers included), by id,
    each with what a comment shows of them; their membership rows are held FOR KEY SHARE until
    commit. A concurrent removal (a DELETE, which waits for that lock) then either went first
    (the mention is refused) or waits and removes a member the comment mentions, as it may: a
    comment outlives its author's and its mentioned users' membership. Never a mention of
    someone who was not a member when the comment was written. Other comments mentioning the
    same users do not wait (KEY SHARE does not conflict with itself), nor do role changes."""
    if not user_ids:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_MEMBERS_SQL, [project_id, list(user_ids)])
            rows = cursor.fetchall()
        return {pk: User(id=pk, email=email, name=name) for pk, email, name in rows}
    members = Membership.objects.filter(project_id=project_id, user_id__in=user_ids)
    users = User.objects.filter(pk__in=members.values("user_id")).only("id", "email", "name")
    return {user.pk: user for user in users}


def _mentioned(project_id: int, mention_ids: list[int]) -> list[User]:
    """The users the ids name, locked as members (`_lock_members`), by id; a 400 on
    `mention_ids` otherwise, worded the same whether the user is a stranger or does not
    exist."""
    ids = sorted(set(mention_ids))
    members = _lock_members(project_id, ids)
    if len(members) != len(ids):
        raise Invalid(NO_SUCH_MENTION, code="not_a_member", attr="mention_ids")
    return [members[pk] for pk in ids]


def _notices(
    comment: Comment, task: Task, *, actor: User, mentioned: list[int], commented: bool
) -> list[Notice]:
    """`mentioned` for the users newly mentioned, then (for a new comment) `commented` for the
    task's creator and assignee: the notifications sink keeps the first notice naming a user
    and never notifies the actor, so a mentioned creator is told once, as mentioned."""
    common = {
        "actor_id": actor.pk,
        "project_id": task.project_id,
        "task_id": task.pk,
        "comment_id": comment.pk,
    }
    notices = []
    if mentioned:
        notices.append(Notice(verb=MENTIONED, user_ids=tuple(mentioned), **common))
    followers = tuple(
        user_id
        for user_id in dict.fromkeys((task.created_by_id, task.assignee_id))
        if user_id is not None
    )
    if commented and followers:
        notices.append(Notice(verb=COMMENTED, user_ids=followers, **common))
    return notices


@transaction.atomic  # the admin calls it inside its own transaction
def comment_create(
    *, task: Task, actor: User, body: str, mention_ids: list[int] = (), as_member: bool = True
) -> Comment:
    """A new comment by `actor` on the task; `body` is already trimmed and checked (the
    serializer's, or the admin form's). With `as_member` (the API) the actor must be a member
    of the task's project, viewers included. The returned comment carries everything its
    representation shows."""
    locked, mentioned = _lock(task, actor=actor, as_member=as_member, mention_ids=list(mention_ids))
    comment = Comment.objects.create(task_id=locked.pk, author=actor, body=body)
    if mentioned:
        comment.mentions.set([user.pk for user in mentioned])
    comment.mention_list = mentioned
    publish(
        *events.comment_created(comment=comment, project_id=locked.project_id, actor_id=actor.pk),
        *_notices(
            comment,
            locked,
            actor=actor,
            mentioned=[user.pk for user in mentioned],
            commented=True,
        ),
    )
    return comment


def _lock_comment(comment: Comment, *, actor: User, as_member: bool, mention_ids=None):
    """The comment's task and mentioned users (`_lock`), then the comment's row, locked; 404
    if either is gone meanwhile. Returns (comment, task, users mentioned or None)."""
    task, mentioned = _lock(comment.task, actor=actor, as_member=as_member, mention_ids=mention_ids)
    locked = (
        Comment.objects.select_for_update(of=("self",))
        .select_related("author")
        .filter(pk=comment.pk, task_id=task.pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    return locked, task, mentioned


@transaction.atomic  # the admin calls it inside its own transaction
def comment_edit(*, comment: Comment, actor: User, data: dict, as_member: bool = True) -> Comment:
    """Change a comment's `body` and/or `mention_ids` (already checked by the serializer).
    Only its author edits it through the API (the view's 403, and again here under the lock).
    `comment.updated` lists what really changed, and only then is anything written; users
    newly mentioned are notified (`mentioned`), nobody else."""
    mention_ids = data.get("mention_ids")
    locked, task, mentioned = _lock_comment(
        comment,
        actor=actor,
        as_member=as_member,
        mention_ids=None if mention_ids is None else list(mention_ids),
    )
    if as_member and locked.author_id != actor.pk:
        raise PermissionDenied(NOT_THE_AUTHOR)
    before = sorted(locked.mentions.values_list("pk", flat=True))
    changes = []
    if "body" in data and data["body"] != locked.body:
        locked.body = data["body"]
        changes.append("body")
    if mentioned is not None and [user.pk for user in mentioned] != before:
        changes.append("mention_ids")
    if not changes:
        return _with_mentions(locked)
    locked.save(update_fields=["body", "updated_at"])
    if "mention_ids" in changes:
        locked.mentions.set([user.pk for user in mentioned])
        locked.mention_list = mentioned
    else:
        _with_mentions(locked)
    added = [user.pk for user in mentioned or () if user.pk not in set(before)]
    publish(
        *events.comment_updated(
            comment=locked, project_id=task.project_id, actor_id=actor.pk, changes=changes
        ),
        *_notices(locked, task, actor=actor, mentioned=added, commented=False),
    )
    return locked


def _with_mentions(comment: Comment) -> Comment:
    comment.mention_list = list(comment.mentions.only("id", "email", "name").order_by("id"))
    return comment


@transaction.atomic  # the admin calls it inside its own transaction
def comment_delete(*, comment: Comment, actor: User, as_member: bool = True) -> None:
    """Delete a comment (the view checked who may: its author, a project admin or the owner);
    its notifications go with it. `comment.deleted` is `{id, task_id}`."""
    locked, task, _ = _lock_comment(comment, actor=actor, as_member=as_member)
    comment_id = locked.pk
    locked.delete()
    publish(
        *events.comment_deleted(
            comment_id=comment_id, task_id=task.pk, project_id=task.project_id, actor_id=actor.pk
        )
    )
