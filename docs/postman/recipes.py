"""The requests of the Postman collection, in the order newman runs them.

Every operation of the OpenAPI schema needs at least one case here: `build.py` refuses to
write the collection while one has none. A case is one request: its name, its request line,
what it sends and, optionally, more JavaScript test lines. The rest comes from the schema:
the status it must get is the one its name ends with (`... (404)`), or else the operation's
success status; it sends the owner's token unless the operation needs none. `build.py` adds
the status assertion and, for errors, the error-envelope assertion to every case, saves each
real response as an example, and gives an operation that needs a token a "without a token
(401)" request unless a case here answers 401.

Variables chain the run: a test script calls `save("projectId", ...)` (a helper `build.py`
defines in every script that uses it) and later requests use `{{projectId}}`. `number("x")`
puts `{{x}}` into a JSON body without quotes, so the server gets a number.
"""

from dataclasses import dataclass, field

# Who a case authenticates as: the collection's bearer token (the owner), the member's
# token, or nobody. Any other name is a variable holding a bearer token. FROM_SCHEMA: the
# owner, or nobody where the schema says the operation needs no credentials.
OWNER = "accessToken"
MEMBER = "memberAccessToken"
NO_AUTH = None
FROM_SCHEMA = ""

# What saved examples show instead of a real token in their Authorization header.
TOKEN_PLACEHOLDERS = {
    OWNER: "<access token>",
    MEMBER: "<member's access token>",
    "staleAccessToken": "<access token issued before the password change>",
    "patSecret": "<personal access token>",
}

# Variables with a value before the run; every other one is set by a script on the way.
INITIAL_VALUES = {
    "baseUrl": "http://127.0.0.1:8000",
    "password": "postman-passphrase-2026",
    "newPassword": "postman-passphrase-2027",
    "missingId": "2147483647",
    # The mail catcher of `make postman` (.ci/mail_catcher.py), which sets it for its run.
    "mailboxUrl": "http://127.0.0.1:8025",
}


# A pre-request script: the token of the newest message to the owner whose subject holds
# `subject`, from the run's mail catcher, into `variable` (left as it is without a catcher).
MAILED_TOKEN = """
    const to = encodeURIComponent(pm.variables.get("ownerEmail"));
    pm.sendRequest(
      `${{pm.variables.get("mailboxUrl")}}/token?to=${{to}}&subject={subject}`,
      (error, response) => {{
        // No mail catcher (your own server): keep the token you pasted into {variable}.
        if (!error && response.code === 200) save("{variable}", response.json().token);
      }});
"""


def number(variable: str) -> str:
    """`{{variable}}` as a JSON number in a request body."""
    return f"@number:{variable}"


@dataclass(frozen=True)
class Case:
    name: str
    # "METHOD /path?query", with {{variables}}.
    request: str
    body: dict | None = None
    auth: str | None = FROM_SCHEMA
    headers: dict[str, str] = field(default_factory=dict)
    # Header rows shown to the reader but not sent (Postman's unchecked headers).
    sample_headers: dict[str, str] = field(default_factory=dict)
    tests: str = ""
    # The body or query field an error names first (its `attr`).
    names: str | None = None
    prerequest: str = ""
    description: str = ""
    # The request that carries every saved example of its operation. By default the first
    # case of the operation that succeeds.
    primary: bool = False
    # A request to a URL the schema does not list (a convention such as the JSON 404).
    off_schema: bool = False
    # Set by build.py, from the name or the schema.
    status: int = 0

    @property
    def method(self) -> str:
        return self.request.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.request.split(" ", 1)[1]


@dataclass(frozen=True)
class Folder:
    name: str
    description: str
    cases: list[Case]


AUTH = Folder(
    "Auth",
    "Accounts and JWTs: register, log in, refresh (refresh tokens rotate), log out, the "
    "profile and the password change, which revokes every token issued before it.",
    [
        Case(
            "Register the owner",
            "POST /api/v1/auth/register/",
            body={
                "email": "{{ownerEmail}}",
                "password": "{{password}}",
                "name": "Olivia Owner",
                "timezone": "Europe/Paris",
            },
            prerequest="""
                const stamp = Date.now();
                save("ownerEmail", `owner-${stamp}@example.com`);
                save("memberEmail", `member-${stamp}@example.com`);
                save("carolEmail", `carol-${stamp}@example.com`);
            """,
            tests="""
                const user = pm.response.json();
                pm.test("user fields only", () =>
                  pm.expect(user).to.have.keys(
                    "id", "email", "email_verified", "name", "timezone", "date_joined"));
                pm.test("email stored lower-case", () =>
                  pm.expect(user.email).to.eql(pm.variables.get("ownerEmail")));
                save("ownerId", user.id);
            """,
            description="Every run registers fresh users (their emails carry a time stamp), "
            "so the collection can run again and again against one server.",
        ),
        Case(
            "Register a member",
            "POST /api/v1/auth/register/",
            body={"email": "{{memberEmail}}", "password": "{{password}}", "name": "Max Member"},
            tests='save("memberId", pm.response.json().id);',
        ),
        Case(
            "Register a third user",
            "POST /api/v1/auth/register/",
            body={
                "email": "{{carolEmail}}",
                "password": "{{password}}",
                "name": "Carol Collaborator",
            },
            tests='save("carolId", pm.response.json().id);',
        ),
        Case(
            "Register again with the same email in capitals (400)",
            "POST /api/v1/auth/register/",
            body={"email": "{{memberEmail}}", "password": "{{password}}"},
            prerequest="""
                pm.request.body.raw = JSON.stringify({
                  email: pm.variables.get("memberEmail").toUpperCase(),
                  password: pm.variables.get("password"),
                });
            """,
            names="email",
        ),
        Case(
            "Log in",
            "POST /api/v1/auth/login/",
            body={"email": "{{ownerEmail}}", "password": "{{password}}"},
            tests="""
                const tokens = pm.response.json();
                pm.test("access and refresh", () =>
                  pm.expect(tokens).to.have.keys("access", "refresh"));
                save("accessToken", tokens.access);
                save("refreshToken", tokens.refresh);
            """,
        ),
        Case(
            "Log in with a wrong password (401)",
            "POST /api/v1/auth/login/",
            body={"email": "{{ownerEmail}}", "password": "wrong-password"},
        ),
        Case(
            "Log in as the member",
            "POST /api/v1/auth/login/",
            body={"email": "{{memberEmail}}", "password": "{{password}}"},
            tests='save("memberAccessToken", pm.response.json().access);',
        ),
        Case(
            "My profile",
            "GET /api/v1/auth/me/",
            tests="""
                pm.test("it is me", () =>
                  pm.expect(pm.response.json().email).to.eql(pm.variables.get("ownerEmail")));
            """,
        ),
        Case("My profile without a token (401)", "GET /api/v1/auth/me/", auth=NO_AUTH),
        Case(
            "Change my time zone",
            "PATCH /api/v1/auth/me/",
            body={"timezone": "Asia/Tokyo"},
            tests="""
                pm.test("timezone", () =>
                  pm.expect(pm.response.json().timezone).to.eql("Asia/Tokyo"));
            """,
        ),
        Case(
            "Change my time zone to one that does not exist (400)",
            "PATCH /api/v1/auth/me/",
            body={"timezone": "Mars/Olympus_Mons"},
            names="timezone",
        ),
        Case(
            "Refresh tokens (rotation)",
            "POST /api/v1/auth/refresh/",
            body={"refresh": "{{refreshToken}}"},
            tests="""
                const tokens = pm.response.json();
                save("oldRefreshToken", pm.variables.get("refreshToken"));
                save("accessToken", tokens.access);
                save("refreshToken", tokens.refresh);
            """,
        ),
        Case(
            "Reuse the rotated refresh token (401)",
            "POST /api/v1/auth/refresh/",
            body={"refresh": "{{oldRefreshToken}}"},
        ),
        Case(
            "Log out",
            "POST /api/v1/auth/logout/",
            body={"refresh": "{{refreshToken}}"},
            description="The access token keeps working until it expires; the run goes on with it.",
        ),
        Case(
            "Log out again with the same refresh token (401)",
            "POST /api/v1/auth/logout/",
            body={"refresh": "{{refreshToken}}"},
        ),
        Case(
            "Refresh after logout (401)",
            "POST /api/v1/auth/refresh/",
            body={"refresh": "{{refreshToken}}"},
        ),
        Case(
            "Change my password with a wrong current password (400)",
            "POST /api/v1/auth/password/",
            body={"current_password": "not-my-password", "new_password": "{{newPassword}}"},
            names="current_password",
        ),
        Case(
            "Change my password",
            "POST /api/v1/auth/password/",
            body={"current_password": "{{password}}", "new_password": "{{newPassword}}"},
            tests='save("staleAccessToken", pm.variables.get("accessToken"));',
        ),
        Case(
            "My profile with a token issued before the password change (401)",
            "GET /api/v1/auth/me/",
            auth="staleAccessToken",
            tests="""
                pm.test("token_not_valid", () =>
                  pm.expect(pm.response.json().errors[0].code).to.eql("token_not_valid"));
            """,
        ),
        Case(
            "Log in with the new password",
            "POST /api/v1/auth/login/",
            body={"email": "{{ownerEmail}}", "password": "{{newPassword}}"},
            tests="""
                const tokens = pm.response.json();
                save("accessToken", tokens.access);
                save("refreshToken", tokens.refresh);
            """,
        ),
        # Email: a token travels by email. The runs of `make postman`, build.py and CI point
        # the server at a mail catcher on loopback (.ci/mail_catcher.py) that answers
        # `{{mailboxUrl}}/token?to=...&subject=...` with the token of the newest message.
        Case(
            "Verify my email with a bad token (400)",
            "POST /api/v1/auth/email/verify/",
            body={"token": "not-a-token-from-a-message"},
            names="token",
        ),
        Case(
            "Verify my email",
            "POST /api/v1/auth/email/verify/",
            body={"token": "{{verifyToken}}"},
            prerequest=MAILED_TOKEN.format(variable="verifyToken", subject="confirm"),
            tests="""
                pm.test("verified", () =>
                  pm.expect(pm.response.json().email_verified).to.eql(true));
            """,
            description=(
                "With the token of the message registration sent (the line `Token: ...`, or "
                "the `token` of its link). Under `make run`, the worker's log shows the message."
            ),
        ),
        Case(
            "Verify my email again with the same token (400)",
            "POST /api/v1/auth/email/verify/",
            body={"token": "{{verifyToken}}"},
            names="token",
        ),
        Case(
            "Send the verification message again",
            "POST /api/v1/auth/email/verify/resend/",
            description="202 and no message when the email is verified already, as here.",
        ),
        Case(
            "Ask for a password reset",
            "POST /api/v1/auth/password/reset/",
            body={"email": "{{ownerEmail}}"},
            description="202 whether or not the address has an account; a message only if it has.",
        ),
        Case(
            "Ask for a password reset for an address with no account",
            "POST /api/v1/auth/password/reset/",
            body={"email": "nobody-{{ownerEmail}}"},
        ),
        Case(
            "Reset the password with a bad token (400)",
            "POST /api/v1/auth/password/reset/confirm/",
            body={"token": "not-a-token-from-a-message", "new_password": "{{newPassword}}"},
            names="token",
        ),
        Case(
            "Reset the password",
            "POST /api/v1/auth/password/reset/confirm/",
            body={"token": "{{resetToken}}", "new_password": "{{newPassword}}"},
            prerequest=MAILED_TOKEN.format(variable="resetToken", subject="reset"),
            description=(
                "Every session ends, as with a password change: the run logs in again below."
            ),
        ),
        Case(
            "Log in after the reset",
            "POST /api/v1/auth/login/",
            body={"email": "{{ownerEmail}}", "password": "{{newPassword}}"},
            tests="""
                const tokens = pm.response.json();
                save("accessToken", tokens.access);
                save("refreshToken", tokens.refresh);
            """,
        ),
    ],
)

TOKENS = Folder(
    "Tokens",
    "Personal access tokens for scripts and integrations: `Authorization: Bearer tl_pat_...` "
    "works wherever an access token does, limited to its scopes (`read`, `write`) and, "
    "optionally, to some projects. The secret is shown once, at creation. Tokens are managed "
    "with a password login only (a token gets a 403 here).",
    [
        Case(
            "Create a personal access token",
            "POST /api/v1/auth/tokens/",
            body={"name": "Nightly report", "scopes": ["read"]},
            tests="""
                const token = pm.response.json();
                pm.test("the secret, shown once", () =>
                  pm.expect(token.token).to.match(/^tl_pat_/));
                save("patId", token.id);
                save("patSecret", token.token);
            """,
        ),
        Case(
            "Create a token with a scope that does not exist (400)",
            "POST /api/v1/auth/tokens/",
            body={"name": "Nightly report", "scopes": ["admin"]},
        ),
        Case(
            "Create a token for a project you are not a member of (400)",
            "POST /api/v1/auth/tokens/",
            body={
                "name": "Nightly report",
                "scopes": ["read"],
                "project_ids": [number("missingId")],
            },
        ),
        Case("List tokens without a token (401)", "GET /api/v1/auth/tokens/", auth=NO_AUTH),
        Case("My profile with the personal access token", "GET /api/v1/auth/me/", auth="patSecret"),
        Case(
            "Create a task with a read-only token (403)",
            "POST /api/v1/tasks/",
            body={"title": "Written by a script"},
            auth="patSecret",
        ),
        Case("List tokens with a token (403)", "GET /api/v1/auth/tokens/", auth="patSecret"),
        Case(
            "List my tokens",
            "GET /api/v1/auth/tokens/",
            primary=True,
            tests="""
                const page = pm.response.json();
                pm.test("one token, no secret", () => {
                  pm.expect(page.count).to.eql(1);
                  pm.expect(page.results[0]).to.not.have.property("token");
                });
            """,
        ),
        Case("Revoke the token", "DELETE /api/v1/auth/tokens/{{patId}}/"),
        Case("Use the revoked token (401)", "GET /api/v1/auth/me/", auth="patSecret"),
        Case("Revoke a token that does not exist (404)", "DELETE /api/v1/auth/tokens/{{patId}}/"),
    ],
)

PROJECTS = Folder(
    "Projects",
    "Projects and their roles: any user creates one and owns it; owners and admins edit it; "
    "only the owner deletes or transfers it. The Inbox, every user's personal project, can be "
    "neither deleted nor transferred (409). A project you are not a member of does not exist "
    "for you (404).",
    [
        Case(
            "Create a project",
            "POST /api/v1/projects/",
            body={"name": "  Launch  ", "description": "Everything for launch day."},
            tests="""
                const project = pm.response.json();
                pm.test("trimmed name, caller is owner", () => {
                  pm.expect(project.name).to.eql("Launch");
                  pm.expect(project.role).to.eql("owner");
                  pm.expect(project.member_count).to.eql(1);
                  pm.expect(project.is_inbox).to.eql(false);
                });
                save("projectId", project.id);
            """,
        ),
        Case(
            "Create a project with a blank name (400)",
            "POST /api/v1/projects/",
            body={"name": "   "},
            names="name",
        ),
        Case(
            "List my projects",
            "GET /api/v1/projects/",
            tests="""
                const page = pm.response.json();
                pm.test("a page with the Inbox", () => {
                  pm.expect(page).to.have.keys("count", "next", "previous", "results");
                  pm.expect(page.results.some(p => p.is_inbox)).to.eql(true);
                });
                save("inboxId", page.results.find(p => p.is_inbox).id);
            """,
        ),
        Case(
            "List projects with a page size of 0 (400)",
            "GET /api/v1/projects/?page_size=0",
            names="page_size",
        ),
        Case("List projects without a token (401)", "GET /api/v1/projects/", auth=NO_AUTH),
        Case(
            "Get the project",
            "GET /api/v1/projects/{{projectId}}/",
            tests='pm.test("my role", () => pm.expect(pm.response.json().role).to.eql("owner"));',
        ),
        Case("Get a project that does not exist (404)", "GET /api/v1/projects/{{missingId}}/"),
        Case(
            "Rename the project",
            "PATCH /api/v1/projects/{{projectId}}/",
            body={"name": "Launch day"},
            tests="""
                pm.test("renamed", () => pm.expect(pm.response.json().name).to.eql("Launch day"));
            """,
        ),
        Case(
            "Rename the project to an empty name (400)",
            "PATCH /api/v1/projects/{{projectId}}/",
            body={"name": ""},
            names="name",
        ),
        Case(
            "Replace the project",
            "PUT /api/v1/projects/{{projectId}}/",
            body={"name": "Launch"},
            tests="""
                pm.test("omitted fields back to their defaults", () =>
                  pm.expect(pm.response.json().description).to.eql(""));
            """,
        ),
        Case(
            "Replace the project without a name (400)",
            "PUT /api/v1/projects/{{projectId}}/",
            body={"description": "No name"},
            names="name",
        ),
        Case(
            "Add the member to the project",
            "POST /api/v1/projects/{{projectId}}/members/",
            body={"email": "{{memberEmail}}"},
            tests="""
                pm.test("a plain member by default", () =>
                  pm.expect(pm.response.json().role).to.eql("member"));
            """,
            description="So that the next requests can show what a plain member may not do.",
        ),
        Case(
            "Rename the project as a plain member (403)",
            "PATCH /api/v1/projects/{{projectId}}/",
            body={"name": "Mine now"},
            auth=MEMBER,
        ),
        Case(
            "Replace the project as a plain member (403)",
            "PUT /api/v1/projects/{{projectId}}/",
            body={"name": "Mine now"},
            auth=MEMBER,
        ),
        Case(
            "Delete the project as a plain member (403)",
            "DELETE /api/v1/projects/{{projectId}}/",
            auth=MEMBER,
        ),
        Case(
            "Transfer ownership as a plain member (403)",
            "POST /api/v1/projects/{{projectId}}/transfer/",
            body={"user_id": number("memberId")},
            auth=MEMBER,
        ),
        Case(
            "Transfer ownership to someone who is not a member (400)",
            "POST /api/v1/projects/{{projectId}}/transfer/",
            body={"user_id": number("carolId")},
            names="user_id",
        ),
        Case(
            "Transfer the Inbox (409)",
            "POST /api/v1/projects/{{inboxId}}/transfer/",
            body={"user_id": number("memberId")},
        ),
        Case(
            "Transfer a project that does not exist (404)",
            "POST /api/v1/projects/{{missingId}}/transfer/",
            body={"user_id": number("memberId")},
        ),
        Case(
            "Transfer ownership to the member",
            "POST /api/v1/projects/{{projectId}}/transfer/",
            body={"user_id": number("memberId")},
            tests="""
                const project = pm.response.json();
                pm.test("the member owns it, I am an admin", () => {
                  pm.expect(project.owner.id).to.eql(Number(pm.variables.get("memberId")));
                  pm.expect(project.role).to.eql("admin");
                });
            """,
        ),
        Case(
            "The new owner transfers it back",
            "POST /api/v1/projects/{{projectId}}/transfer/",
            body={"user_id": number("ownerId")},
            auth=MEMBER,
            tests="""
                pm.test("owned by me again", () =>
                  pm.expect(pm.response.json().owner.id).to.eql(Number(pm.variables.get("ownerId"))));
            """,
        ),
        Case("Delete the Inbox (409)", "DELETE /api/v1/projects/{{inboxId}}/"),
        Case(
            "Delete a project that does not exist (404)", "DELETE /api/v1/projects/{{missingId}}/"
        ),
        Case(
            "Create a project to delete",
            "POST /api/v1/projects/",
            body={"name": "Scratch"},
            tests='save("scratchProjectId", pm.response.json().id);',
        ),
        Case("Delete a project", "DELETE /api/v1/projects/{{scratchProjectId}}/"),
    ],
)

MEMBERS = Folder(
    "Members",
    "A project's members and their roles (`owner`, `admin`, `member`, `viewer`: a read-only "
    "member). Owners and admins add, change and remove members; any member may leave; the "
    "owner's row cannot be changed or removed (409), and nobody can be added to an Inbox (409).",
    [
        Case(
            "Add a member",
            "POST /api/v1/projects/{{projectId}}/members/",
            body={"email": "{{carolEmail}}", "role": "member"},
            primary=True,
            tests="""
                pm.test("member role", () => pm.expect(pm.response.json().role).to.eql("member"));
            """,
        ),
        Case(
            "Add the same member again (409)",
            "POST /api/v1/projects/{{projectId}}/members/",
            body={"email": "{{carolEmail}}", "role": "member"},
        ),
        Case(
            "Add an email nobody registered (400)",
            "POST /api/v1/projects/{{projectId}}/members/",
            body={"email": "nobody-{{ownerEmail}}"},
            names="email",
        ),
        Case(
            "Add someone to the Inbox (409)",
            "POST /api/v1/projects/{{inboxId}}/members/",
            body={"email": "{{carolEmail}}"},
        ),
        Case(
            "List members",
            "GET /api/v1/projects/{{projectId}}/members/",
            tests='pm.test("three members", () => pm.expect(pm.response.json().count).to.eql(3));',
        ),
        Case(
            "List the members of a project that does not exist (404)",
            "GET /api/v1/projects/{{missingId}}/members/",
        ),
        Case(
            "Promote a member to admin",
            "PATCH /api/v1/projects/{{projectId}}/members/{{carolId}}/",
            body={"role": "admin"},
            tests='pm.test("admin", () => pm.expect(pm.response.json().role).to.eql("admin"));',
        ),
        Case(
            "Make the member a plain member again",
            "PATCH /api/v1/projects/{{projectId}}/members/{{memberId}}/",
            body={"role": "member"},
            description="The transfer back left the member an admin.",
            tests='pm.test("member", () => pm.expect(pm.response.json().role).to.eql("member"));',
        ),
        Case(
            "Change the owner's role (409)",
            "PATCH /api/v1/projects/{{projectId}}/members/{{ownerId}}/",
            body={"role": "member"},
        ),
        Case(
            "Change a role to one that does not exist (400)",
            "PATCH /api/v1/projects/{{projectId}}/members/{{carolId}}/",
            body={"role": "superuser"},
            names="role",
        ),
        Case(
            "Change a role as a plain member (403)",
            "PATCH /api/v1/projects/{{projectId}}/members/{{carolId}}/",
            body={"role": "member"},
            auth=MEMBER,
        ),
        Case(
            "Add a member as a plain member (403)",
            "POST /api/v1/projects/{{projectId}}/members/",
            body={"email": "{{carolEmail}}"},
            auth=MEMBER,
        ),
        Case(
            "Remove a member as a plain member (403)",
            "DELETE /api/v1/projects/{{projectId}}/members/{{carolId}}/",
            auth=MEMBER,
        ),
        Case(
            "Remove the owner (409)", "DELETE /api/v1/projects/{{projectId}}/members/{{ownerId}}/"
        ),
        Case("Remove a member", "DELETE /api/v1/projects/{{projectId}}/members/{{carolId}}/"),
        Case(
            "Remove someone who is not a member (404)",
            "DELETE /api/v1/projects/{{projectId}}/members/{{carolId}}/",
        ),
    ],
)

TASK_FIELDS = (
    '"id", "project_id", "title", "description", "status", "priority", "due_date", '
    '"assignee_id", "assignee", "label_ids", "labels", "parent_id", "subtask_count", '
    '"completed_subtask_count", "comment_count", "position", "created_by", "created_at", '
    '"updated_at", "completed_at", "is_overdue"'
)
LAUNCH_TASK = {
    "title": "Write the launch post",
    "project_id": number("projectId"),
    "assignee_id": number("memberId"),
    "due_date": "{{dueDate}}",
    "status": "in-progress",
}

TASKS = Folder(
    "Tasks",
    "Tasks in every project you belong to: idempotent creates (`Idempotency-Key`), filters "
    "and ordering on the list, ETags on the detail (`If-None-Match` for a 304, `If-Match` "
    "against lost updates: a stale one is a 412), a manual order (`reorder/`, "
    "`ordering=position`), priorities and subtasks (`parent_id`, the `parent` filter). Any "
    "member but a viewer creates, edits and reorders tasks; a task is deleted by its creator, "
    "an admin or the owner.",
    [
        Case(
            "Create a task (Idempotency-Key)",
            "POST /api/v1/tasks/",
            body=LAUNCH_TASK,
            headers={"Idempotency-Key": "{{idempotencyKey}}"},
            prerequest="""
                save("idempotencyKey", "create-" + Date.now());
                save("dueDate", new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10));
            """,
            tests=f"""
                const task = pm.response.json();
                pm.test("task fields", () => pm.expect(task).to.have.keys({TASK_FIELDS}));
                save("taskId", task.id);
            """,
        ),
        Case(
            "Retry the same create (replayed)",
            "POST /api/v1/tasks/",
            body=LAUNCH_TASK,
            headers={"Idempotency-Key": "{{idempotencyKey}}"},
            tests="""
                pm.test("replayed, same task", () => {
                  pm.expect(pm.response.headers.get("Idempotent-Replayed")).to.eql("true");
                  pm.expect(pm.response.json().id).to.eql(Number(pm.variables.get("taskId")));
                });
            """,
        ),
        Case(
            "Reuse the key with another body (422)",
            "POST /api/v1/tasks/",
            body={"title": "Something else"},
            headers={"Idempotency-Key": "{{idempotencyKey}}"},
        ),
        Case(
            "Create a task in my Inbox",
            "POST /api/v1/tasks/",
            body={"title": "Buy milk"},
            tests='save("inboxTaskId", pm.response.json().id);',
        ),
        Case(
            "Create a task without a title (400)",
            "POST /api/v1/tasks/",
            body={"description": "A task needs a title."},
            names="title",
        ),
        Case(
            "List tasks: pending or in progress, by due date",
            "GET /api/v1/tasks/?status=pending,in-progress&ordering=due_date&page_size=50",
            sample_headers={"Authorization": "Bearer <access token>"},
            description="Every request but register, login, refresh and logout carries the "
            "access token from Log in as `Authorization: Bearer <access token>`. The "
            "collection sends it for you from `{{accessToken}}`; the unchecked header row "
            "shows it as you would write it yourself.",
            tests="""
                const page = pm.response.json();
                pm.test("both tasks", () => pm.expect(page.count).to.eql(2));
                pm.test("no due date last", () =>
                  pm.expect(page.results[page.results.length - 1].due_date).to.eql(null));
            """,
        ),
        Case(
            "Search tasks",
            "GET /api/v1/tasks/?search=LAUNCH%20post",
            tests='pm.test("one match", () => pm.expect(pm.response.json().count).to.eql(1));',
        ),
        Case(
            "Unknown ordering field (400)", "GET /api/v1/tasks/?ordering=assignee", names="ordering"
        ),
        Case("List tasks without a token (401)", "GET /api/v1/tasks/", auth=NO_AUTH),
        Case(
            "Create a second task in the project",
            "POST /api/v1/tasks/",
            body={"title": "Proofread the launch post", "project_id": number("projectId")},
            tests='save("secondTaskId", pm.response.json().id);',
        ),
        Case(
            "Reorder the task after the second one",
            "POST /api/v1/tasks/{{taskId}}/reorder/",
            body={"after_id": number("secondTaskId")},
            tests="""
                pm.test("a new position", () =>
                  pm.expect(pm.response.json().position).to.be.a("string"));
            """,
        ),
        Case(
            "Reorder without before_id or after_id (400)",
            "POST /api/v1/tasks/{{taskId}}/reorder/",
            body={},
            names="before_id",
        ),
        Case(
            "Reorder before a task that does not exist (400)",
            "POST /api/v1/tasks/{{taskId}}/reorder/",
            body={"before_id": number("missingId")},
            names="before_id",
        ),
        Case(
            "Reorder a task that does not exist (404)",
            "POST /api/v1/tasks/{{missingId}}/reorder/",
            body={"after_id": number("taskId")},
        ),
        Case(
            "List the project's tasks in their manual order",
            "GET /api/v1/tasks/?project={{projectId}}&ordering=position",
            tests="""
                const ids = pm.response.json().results.map((task) => task.id);
                pm.test("the reordered task last", () => pm.expect(ids).to.eql([
                  Number(pm.variables.get("secondTaskId")), Number(pm.variables.get("taskId")),
                ]));
            """,
        ),
        Case(
            "Create a subtask",
            "POST /api/v1/tasks/",
            body={
                "title": "Pick the header image",
                "project_id": number("projectId"),
                "parent_id": number("taskId"),
                "priority": "high",
            },
            description="`parent_id` makes the new task a subtask of another task of the same "
            "project; the parent's `subtask_count` counts it.",
            tests="""
                const task = pm.response.json();
                pm.test("a subtask of the task", () =>
                  pm.expect(task.parent_id).to.eql(Number(pm.variables.get("taskId"))));
                save("subtaskId", task.id);
            """,
        ),
        Case(
            "Create a subtask of a task in another project (400)",
            "POST /api/v1/tasks/",
            body={
                "title": "Misplaced",
                "project_id": number("projectId"),
                "parent_id": number("inboxTaskId"),
            },
            names="parent_id",
        ),
        Case(
            "Make a task its own parent (400)",
            "PATCH /api/v1/tasks/{{taskId}}/",
            body={"parent_id": number("taskId")},
            names="parent_id",
        ),
        Case(
            "List the task's subtasks",
            "GET /api/v1/tasks/?parent={{taskId}}",
            tests="""
                const ids = pm.response.json().results.map((task) => task.id);
                pm.test("its one subtask", () =>
                  pm.expect(ids).to.eql([Number(pm.variables.get("subtaskId"))]));
            """,
        ),
        Case(
            "List the project's top-level tasks",
            "GET /api/v1/tasks/?project={{projectId}}&parent=none&ordering=position",
            tests="""
                const ids = pm.response.json().results.map((task) => task.id);
                pm.test("no subtask", () =>
                  pm.expect(ids).to.not.include(Number(pm.variables.get("subtaskId"))));
            """,
        ),
        Case(
            "List urgent and high-priority tasks, most urgent first",
            "GET /api/v1/tasks/?priority=urgent,high&ordering=-priority",
            tests="""
                const ids = pm.response.json().results.map((task) => task.id);
                pm.test("the high-priority subtask", () =>
                  pm.expect(ids).to.eql([Number(pm.variables.get("subtaskId"))]));
            """,
        ),
        Case(
            "Get the task (ETag)",
            "GET /api/v1/tasks/{{taskId}}/",
            tests="""
                pm.test("one subtask, not completed", () => {
                  pm.expect(pm.response.json().subtask_count).to.eql(1);
                  pm.expect(pm.response.json().completed_subtask_count).to.eql(0);
                });
                pm.test("has an ETag", () =>
                  pm.expect(pm.response.headers.get("ETag")).to.be.a("string"));
                save("etag", pm.response.headers.get("ETag"));
            """,
        ),
        Case(
            "Get it again with If-None-Match (304)",
            "GET /api/v1/tasks/{{taskId}}/",
            headers={"If-None-Match": "{{etag}}"},
            tests='pm.test("no body", () => pm.expect(pm.response.text()).to.eql(""));',
        ),
        Case("Get a task that does not exist (404)", "GET /api/v1/tasks/{{missingId}}/"),
        Case(
            "Complete it with If-Match",
            "PATCH /api/v1/tasks/{{taskId}}/",
            body={"status": "completed"},
            headers={"If-Match": "{{etag}}"},
            tests="""
                pm.test("completed_at set", () =>
                  pm.expect(pm.response.json().completed_at).to.be.a("string"));
            """,
        ),
        Case(
            "Update with the stale ETag (412)",
            "PATCH /api/v1/tasks/{{taskId}}/",
            body={"title": "Stale"},
            headers={"If-Match": "{{etag}}"},
        ),
        Case(
            "Update with a status that does not exist (400)",
            "PATCH /api/v1/tasks/{{taskId}}/",
            body={"status": "done"},
            names="status",
        ),
        Case(
            "Replace with the stale ETag (412)",
            "PUT /api/v1/tasks/{{taskId}}/",
            body={"title": "Stale"},
            headers={"If-Match": "{{etag}}"},
        ),
        Case(
            "Delete with the stale ETag (412)",
            "DELETE /api/v1/tasks/{{taskId}}/",
            headers={"If-Match": "{{etag}}"},
        ),
        Case(
            "Delete it as a member who did not create it (403)",
            "DELETE /api/v1/tasks/{{taskId}}/",
            auth=MEMBER,
        ),
        Case(
            "Replace the Inbox task",
            "PUT /api/v1/tasks/{{inboxTaskId}}/",
            body={"title": "Buy oat milk", "description": "Two litres."},
            tests="""
                const task = pm.response.json();
                pm.test("omitted fields back to their defaults", () => {
                  pm.expect(task.status).to.eql("pending");
                  pm.expect(task.due_date).to.eql(null);
                  pm.expect(task.project_id).to.eql(Number(pm.variables.get("inboxId")));
                });
            """,
        ),
        Case(
            "Replace the Inbox task without a title (400)",
            "PUT /api/v1/tasks/{{inboxTaskId}}/",
            body={"description": "Two litres."},
            names="title",
        ),
        Case("Delete the Inbox task", "DELETE /api/v1/tasks/{{inboxTaskId}}/"),
        Case("Delete the Inbox task again (404)", "DELETE /api/v1/tasks/{{inboxTaskId}}/"),
    ],
)

ACTIVITY = Folder(
    "Activity",
    "Who changed what, newest first: a task's own history (in every project it has been "
    "in) and a project's feed (tasks, including deleted ones, the project and its members).",
    [
        Case(
            "The task's activity",
            "GET /api/v1/tasks/{{taskId}}/activity/",
            tests="""
                const feed = pm.response.json();
                pm.test("updated then created, newest first", () => {
                  pm.expect(feed.results.map(e => e.verb)).to.eql(["updated", "created"]);
                  pm.expect(feed.results[0].changes.status)
                    .to.eql({from: "in-progress", to: "completed"});
                });
            """,
        ),
        Case(
            "The activity of a task that does not exist (404)",
            "GET /api/v1/tasks/{{missingId}}/activity/",
        ),
        Case(
            "The project's activity",
            "GET /api/v1/projects/{{projectId}}/activity/",
            tests="""
                const verbs = pm.response.json().results.map(e => e.verb);
                pm.test("role change recorded", () => pm.expect(verbs).to.include("role_changed"));
                pm.test("transfers recorded", () =>
                  pm.expect(verbs).to.include("ownership_transferred"));
            """,
        ),
        Case(
            "The project's activity, page 0 (400)",
            "GET /api/v1/projects/{{projectId}}/activity/?page=0",
            names="page",
        ),
        Case(
            "The activity of a project that does not exist (404)",
            "GET /api/v1/projects/{{missingId}}/activity/",
        ),
    ],
)

WEBHOOKS = Folder(
    "Webhooks",
    "A project's events POSTed to your HTTPS endpoint, signed (Standard Webhooks headers), "
    "retried with backoff; the delivery log shows each attempt. Owners and admins only. The "
    "target must be https and resolve to public addresses, and may not carry a user name or "
    "password (each refused with a 400).",
    [
        Case(
            "Create a webhook",
            "POST /api/v1/projects/{{projectId}}/webhooks/",
            body={
                "url": "https://hooks.example.com/tasklane",
                "events": ["task.created", "task.updated"],
                "description": "Post new tasks to #launch",
            },
            tests="""
                const webhook = pm.response.json();
                pm.test("the secret, shown once", () =>
                  pm.expect(webhook.secret).to.match(/^whsec_/));
                save("webhookId", webhook.id);
                save("webhookSecret", webhook.secret);
            """,
        ),
        # A URL refused whatever the development settings say: WEBHOOKS_ALLOW_PRIVATE and
        # WEBHOOKS_ALLOW_INSECURE (docs/webhooks.md) accept loopback and plain http, never
        # credentials.
        Case(
            "Create a webhook whose URL holds a password (400)",
            "POST /api/v1/projects/{{projectId}}/webhooks/",
            body={"url": "https://user:secret@hooks.example.com/tasklane", "events": ["*"]},
            names="url",
        ),
        Case(
            "Create a webhook as a plain member (403)",
            "POST /api/v1/projects/{{projectId}}/webhooks/",
            body={"url": "https://hooks.example.com/tasklane", "events": ["*"]},
            auth=MEMBER,
        ),
        Case(
            "Create a webhook in a project that does not exist (404)",
            "POST /api/v1/projects/{{missingId}}/webhooks/",
            body={"url": "https://hooks.example.com/tasklane", "events": ["*"]},
        ),
        Case(
            "List the project's webhooks",
            "GET /api/v1/projects/{{projectId}}/webhooks/",
            tests="""
                const page = pm.response.json();
                pm.test("one webhook, no secret", () => {
                  pm.expect(page.count).to.eql(1);
                  pm.expect(page.results[0]).to.not.have.property("secret");
                });
            """,
        ),
        Case(
            "List webhooks without a token (401)",
            "GET /api/v1/projects/{{projectId}}/webhooks/",
            auth=NO_AUTH,
        ),
        Case("Get the webhook", "GET /api/v1/projects/{{projectId}}/webhooks/{{webhookId}}/"),
        Case(
            "Get a webhook that does not exist (404)",
            "GET /api/v1/projects/{{projectId}}/webhooks/{{missingId}}/",
        ),
        Case(
            "Update the webhook",
            "PATCH /api/v1/projects/{{projectId}}/webhooks/{{webhookId}}/",
            body={"events": ["*"], "description": "Every event of the project"},
            tests="""
                pm.test("every event", () => pm.expect(pm.response.json().events).to.eql(["*"]));
            """,
        ),
        Case(
            "Update the webhook with an event that does not exist (400)",
            "PATCH /api/v1/projects/{{projectId}}/webhooks/{{webhookId}}/",
            body={"events": ["task.exploded"]},
        ),
        Case(
            "Update the webhook as a plain member (403)",
            "PATCH /api/v1/projects/{{projectId}}/webhooks/{{webhookId}}/",
            body={"is_active": False},
            auth=MEMBER,
        ),
        Case(
            "Rotate the webhook's secret",
            "POST /api/v1/projects/{{projectId}}/webhooks/{{webhookId}}/rotate-secret/",
            tests="""
                const secret = pm.response.json().secret;
                pm.test("a new secret", () => {
                  pm.expect(secret).to.match(/^whsec_/);
                  pm.expect(secret).to.not.eql(pm.variables.get("webhookSecret"));
                });
            """,
        ),
        Case(
            "Send a ping event",
            "POST /api/v1/projects/{{projectId}}/webhooks/{{webhookId}}/ping/",
            tests="""
                const delivery = pm.response.json();
                pm.test("a ping delivery", () => pm.expect(delivery.event_type).to.eql("ping"));
                save("deliveryId", delivery.id);
                save("eventId", delivery.event_id);
            """,
        ),
        Case(
            "Ping as a plain member (403)",
            "POST /api/v1/projects/{{projectId}}/webhooks/{{webhookId}}/ping/",
            auth=MEMBER,
        ),
        Case(
            "The webhook's deliveries",
            "GET /api/v1/projects/{{projectId}}/webhooks/{{webhookId}}/deliveries/",
            tests="""
                pm.test("the ping, newest first", () =>
                  pm.expect(pm.response.json().results[0].event_type).to.eql("ping"));
            """,
        ),
        Case(
            "The deliveries of a webhook that does not exist (404)",
            "GET /api/v1/projects/{{projectId}}/webhooks/{{missingId}}/deliveries/",
        ),
        Case(
            "Deliver the ping again",
            "POST /api/v1/projects/{{projectId}}/webhooks/{{webhookId}}/"
            "deliveries/{{deliveryId}}/redeliver/",
            tests="""
                pm.test("the same event, a new delivery", () => {
                  const delivery = pm.response.json();
                  pm.expect(delivery.event_id).to.eql(pm.variables.get("eventId"));
                  pm.expect(delivery.id).to.not.eql(Number(pm.variables.get("deliveryId")));
                });
            """,
        ),
        Case(
            "Deliver a delivery that does not exist again (404)",
            "POST /api/v1/projects/{{projectId}}/webhooks/{{webhookId}}/"
            "deliveries/{{missingId}}/redeliver/",
        ),
        Case("Delete the webhook", "DELETE /api/v1/projects/{{projectId}}/webhooks/{{webhookId}}/"),
        Case(
            "Delete the webhook again (404)",
            "DELETE /api/v1/projects/{{projectId}}/webhooks/{{webhookId}}/",
        ),
    ],
)

LABELS = Folder(
    "Labels",
    "A project's labels: members read them, the owner, admins and members create and change "
    "them, the owner and admins delete them. Names are unique in a project ignoring case. "
    "Tasks carry them through `label_ids`; `GET tasks/?label=` filters by them.",
    [
        Case(
            "Create a label",
            "POST /api/v1/projects/{{projectId}}/labels/",
            body={"name": "Blog", "color": "#2563EB"},
            tests="""
                const label = pm.response.json();
                pm.test("stored lower-cased", () => pm.expect(label.color).to.eql("#2563eb"));
                save("labelId", label.id);
            """,
        ),
        Case(
            "Create a label whose name is taken (400)",
            "POST /api/v1/projects/{{projectId}}/labels/",
            body={"name": "BLOG"},
            names="name",
        ),
        Case(
            "Create a label in a project that does not exist (404)",
            "POST /api/v1/projects/{{missingId}}/labels/",
            body={"name": "Blog"},
        ),
        Case("List the project's labels", "GET /api/v1/projects/{{projectId}}/labels/"),
        Case("Get the label", "GET /api/v1/projects/{{projectId}}/labels/{{labelId}}/"),
        Case(
            "Get a label that does not exist (404)",
            "GET /api/v1/projects/{{projectId}}/labels/{{missingId}}/",
        ),
        Case(
            "Rename the label",
            "PATCH /api/v1/projects/{{projectId}}/labels/{{labelId}}/",
            body={"name": "Blog posts"},
        ),
        Case(
            "Label the task",
            "PATCH /api/v1/tasks/{{taskId}}/",
            body={"label_ids": [number("labelId")]},
            tests="""
                const task = pm.response.json();
                pm.test("the label, by id and in full", () => {
                  pm.expect(task.label_ids).to.eql([Number(pm.variables.get("labelId"))]);
                  pm.expect(task.labels[0].name).to.eql("Blog posts");
                });
            """,
        ),
        Case(
            "Label the task with a label that does not exist (400)",
            "PATCH /api/v1/tasks/{{taskId}}/",
            body={"label_ids": [number("missingId")]},
            names="label_ids",
        ),
        Case(
            "List the tasks carrying the label",
            "GET /api/v1/tasks/?label={{labelId}}",
            tests="""
                const ids = pm.response.json().results.map((task) => task.id);
                pm.test("the labelled task", () =>
                  pm.expect(ids).to.eql([Number(pm.variables.get("taskId"))]));
            """,
        ),
        Case(
            "Recolour the label with a bad color (400)",
            "PATCH /api/v1/projects/{{projectId}}/labels/{{labelId}}/",
            body={"color": "blue"},
            names="color",
        ),
        Case(
            "Delete the label as a plain member (403)",
            "DELETE /api/v1/projects/{{projectId}}/labels/{{labelId}}/",
            auth=MEMBER,
        ),
        Case(
            "Make the member a viewer",
            "PATCH /api/v1/projects/{{projectId}}/members/{{memberId}}/",
            body={"role": "viewer"},
            description="A viewer reads the project and may not write its tasks or labels. "
            "Their tasks in the project become unassigned.",
            tests='pm.test("viewer", () => pm.expect(pm.response.json().role).to.eql("viewer"));',
        ),
        Case(
            "Create a task as a viewer (403)",
            "POST /api/v1/tasks/",
            body={"title": "Not allowed", "project_id": number("projectId")},
            auth=MEMBER,
        ),
        Case(
            "Create a label as a viewer (403)",
            "POST /api/v1/projects/{{projectId}}/labels/",
            body={"name": "Viewers' label"},
            auth=MEMBER,
        ),
        Case("Delete the label", "DELETE /api/v1/projects/{{projectId}}/labels/{{labelId}}/"),
    ],
)

COMMENTS = Folder(
    "Comments",
    "A task's comments: the members of its project, viewers included, read and write them; "
    "only the author edits one; the author, an admin or the owner deletes one. `body` is plain "
    "text (never render it as HTML); `mention_ids` names members of the project, who are "
    "notified. The member is a viewer by now (Labels made them one).",
    [
        Case(
            "Comment on the task",
            "POST /api/v1/tasks/{{taskId}}/comments/",
            body={
                "body": "  Draft is up, can you review? <b>not bold</b>  ",
                "mention_ids": [number("memberId")],
            },
            tests="""
                const comment = pm.response.json();
                pm.test("trimmed, otherwise as sent", () =>
                  pm.expect(comment.body).to.eql("Draft is up, can you review? <b>not bold</b>"));
                pm.test("the member mentioned", () =>
                  pm.expect(comment.mentions.map((user) => user.id))
                    .to.eql([Number(pm.variables.get("memberId"))]));
                save("commentId", comment.id);
            """,
        ),
        Case(
            "Comment mentioning someone outside the project (400)",
            "POST /api/v1/tasks/{{taskId}}/comments/",
            body={"body": "Hello", "mention_ids": [number("missingId")]},
            names="mention_ids",
        ),
        Case(
            "Comment with a blank body (400)",
            "POST /api/v1/tasks/{{taskId}}/comments/",
            body={"body": "   "},
            names="body",
        ),
        Case(
            "Comment on a task that does not exist (404)",
            "POST /api/v1/tasks/{{missingId}}/comments/",
            body={"body": "Hello"},
        ),
        Case(
            "Comment as a viewer",
            "POST /api/v1/tasks/{{taskId}}/comments/",
            body={"body": "Looks good to me."},
            auth=MEMBER,
            tests='save("viewerCommentId", pm.response.json().id);',
        ),
        Case(
            "List the task's comments",
            "GET /api/v1/tasks/{{taskId}}/comments/",
            tests="""
                const ids = pm.response.json().results.map((comment) => comment.id);
                pm.test("oldest first", () => pm.expect(ids).to.eql([
                  Number(pm.variables.get("commentId")),
                  Number(pm.variables.get("viewerCommentId")),
                ]));
            """,
        ),
        Case(
            "The task counts its comments",
            "GET /api/v1/tasks/{{taskId}}/",
            tests="""
                pm.test("two comments", () =>
                  pm.expect(pm.response.json().comment_count).to.eql(2));
            """,
        ),
        Case("Get the comment", "GET /api/v1/tasks/{{taskId}}/comments/{{commentId}}/"),
        Case(
            "Get a comment that does not exist (404)",
            "GET /api/v1/tasks/{{taskId}}/comments/{{missingId}}/",
        ),
        Case(
            "Edit the comment",
            "PATCH /api/v1/tasks/{{taskId}}/comments/{{commentId}}/",
            body={"body": "Draft is up: please review today.", "mention_ids": []},
            tests="""
                pm.test("no one mentioned now", () =>
                  pm.expect(pm.response.json().mentions).to.eql([]));
            """,
        ),
        Case(
            "Edit someone else's comment (403)",
            "PATCH /api/v1/tasks/{{taskId}}/comments/{{commentId}}/",
            body={"body": "Rewritten"},
            auth=MEMBER,
        ),
        Case(
            "Edit the comment with a body too long (400)",
            "PATCH /api/v1/tasks/{{taskId}}/comments/{{commentId}}/",
            body={"body": "x" * 10_001},
            names="body",
        ),
        Case(
            "Delete someone else's comment as a viewer (403)",
            "DELETE /api/v1/tasks/{{taskId}}/comments/{{commentId}}/",
            auth=MEMBER,
        ),
        Case(
            "Delete the viewer's comment as the owner",
            "DELETE /api/v1/tasks/{{taskId}}/comments/{{viewerCommentId}}/",
        ),
        Case("Delete the comment", "DELETE /api/v1/tasks/{{taskId}}/comments/{{commentId}}/"),
    ],
)


NOTIFICATIONS = Folder(
    "Notifications",
    "Your inbox: what other people's writes mean for you (a new assignee, a mention, a "
    "comment, being added to a project), for the projects you belong to now. The member "
    "was added to the project by the owner earlier in the run, so they have one.",
    [
        Case(
            "The member's notifications",
            "GET /api/v1/notifications/",
            auth=MEMBER,
            tests="""
                const results = pm.response.json().results;
                const added = results.find((n) => n.verb === "added_to_project");
                pm.test("added to the project, by the owner", () => {
                  pm.expect(added.project_id).to.eql(Number(pm.variables.get("projectId")));
                  pm.expect(added.read_at).to.eql(null);
                });
                save("notificationId", added.id);
            """,
        ),
        Case(
            "The member's unread notifications",
            "GET /api/v1/notifications/?unread=true",
            auth=MEMBER,
            tests="""
                pm.test("unread only", () => pm.response.json().results.forEach(
                  (n) => pm.expect(n.read_at).to.eql(null)));
            """,
        ),
        Case(
            "List notifications with a bad unread value (400)",
            "GET /api/v1/notifications/?unread=maybe",
            auth=MEMBER,
            names="unread",
        ),
        Case(
            "Count the member's unread notifications",
            "GET /api/v1/notifications/unread-count/",
            auth=MEMBER,
            tests="""
                pm.test("at least the one", () =>
                  pm.expect(pm.response.json().count).to.be.at.least(1));
            """,
        ),
        Case(
            "Mark the notification read",
            "POST /api/v1/notifications/read/",
            body={"ids": [number("notificationId")]},
            auth=MEMBER,
            tests="""
                pm.test("the unread count left", () =>
                  pm.expect(pm.response.json().count).to.be.a("number"));
            """,
        ),
        Case(
            "Mark read with all false (400)",
            "POST /api/v1/notifications/read/",
            body={"all": False},
            auth=MEMBER,
            names="ids",
        ),
        Case(
            "Mark every notification read",
            "POST /api/v1/notifications/read/",
            body={"all": True},
            auth=MEMBER,
            tests='pm.test("none left", () => pm.expect(pm.response.json().count).to.eql(0));',
        ),
    ],
)

ERRORS = Folder(
    "Errors",
    "Conventions every URL under /api/ follows: errors are JSON in one envelope, a path "
    "without its trailing slash is a 404 (never a redirect), and bodies must be JSON.",
    [
        Case("Missing trailing slash (JSON 404)", "GET /api/v1/tasks", off_schema=True),
        Case("Method not allowed (405)", "DELETE /api/v1/tasks/", off_schema=True),
        Case(
            "Not JSON (415)",
            "POST /api/v1/projects/",
            prerequest="""
                pm.request.headers.upsert({key: "Content-Type", value: "text/plain"});
                pm.request.body = {mode: "raw", raw: "hello"};
            """,
        ),
    ],
)

CLEAN_UP = Folder(
    "Clean up",
    "Leaves the server as the run found it, but for the registered users.",
    [
        Case("Remove the member", "DELETE /api/v1/projects/{{projectId}}/members/{{memberId}}/"),
        Case("Delete the project", "DELETE /api/v1/projects/{{projectId}}/"),
        Case(
            "Log out of the new session",
            "POST /api/v1/auth/logout/",
            body={"refresh": "{{refreshToken}}"},
        ),
    ],
)

FOLDERS = [
    AUTH,
    TOKENS,
    PROJECTS,
    MEMBERS,
    TASKS,
    ACTIVITY,
    WEBHOOKS,
    LABELS,
    COMMENTS,
    NOTIFICATIONS,
    ERRORS,
    CLEAN_UP,
]
