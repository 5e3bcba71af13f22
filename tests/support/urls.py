"""Every API URL the tests call, in one place."""

API = "/api/v1/"
AUTH = f"{API}auth/"
REGISTER = f"{AUTH}register/"
LOGIN = f"{AUTH}login/"
REFRESH = f"{AUTH}refresh/"
LOGOUT = f"{AUTH}logout/"
ME = f"{AUTH}me/"
PASSWORD = f"{AUTH}password/"
PROJECTS = f"{API}projects/"
TASKS = f"{API}tasks/"


def project_url(project_id) -> str:
    return f"{PROJECTS}{project_id}/"


def transfer_url(project_id) -> str:
    return f"{PROJECTS}{project_id}/transfer/"


def members_url(project_id) -> str:
    return f"{PROJECTS}{project_id}/members/"


def member_url(project_id, user_id) -> str:
    return f"{PROJECTS}{project_id}/members/{user_id}/"


def project_feed_url(project_id) -> str:
    return f"{PROJECTS}{project_id}/activity/"


def task_url(task_id) -> str:
    return f"{TASKS}{task_id}/"


def task_feed_url(task_id) -> str:
    return f"{TASKS}{task_id}/activity/"


def labels_url(project_id) -> str:
    return f"{PROJECTS}{project_id}/labels/"


def label_url(project_id, label_id) -> str:
    return f"{PROJECTS}{project_id}/labels/{label_id}/"


NOTIFICATIONS = f"{API}notifications/"
UNREAD_COUNT = f"{NOTIFICATIONS}unread-count/"
MARK_READ = f"{NOTIFICATIONS}read/"


def comments_url(task_id) -> str:
    return f"{TASKS}{task_id}/comments/"


def comment_url(task_id, comment_id) -> str:
    return f"{TASKS}{task_id}/comments/{comment_id}/"
