"""Idempotent creates: `Idempotency-Key` on authenticated POSTs (docs/api.md).

A retry with the same key and request within 24 hours gets the first response again, with
`Idempotent-Replayed: true`, and changes nothing; the same key with another request is a 422;
a duplicate while the first is still running is a 409 (for at most 60 seconds).

It is middleware because the replay must happen before the view runs; DRF authenticates
inside the view, so the credential (a JWT or a personal access token) is checked here too,
by the same authentication classes the views use, and so are the permissions every view
applies (a token's scopes): a credential that may not make the request never gets another
credential's stored answer to it (the view answers it instead), and one that may write but not
read gets the replay as the view would have answered it, without the resource
(core/renderers.py). The "in progress" row is committed before the view runs, which is what
lets a concurrent duplicate see it.
"""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from core.errors import error_response, is_api_path
from core.models import IdempotencyRecord
from core.renderers import representation_withheld, withheld

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
IN_PROGRESS_FOR = timedelta(seconds=60)
REPLAYED_HEADERS = ("Content-Type", "ETag", "Location")
NOT_KEPT = frozenset({409, 429})
EXEMPT_PREFIX = "/api/v1/auth/"


def fingerprint(request) -> str:
    """Method, path and the canonical JSON body (key order and spacing do not matter)."""
    try:
        body = json.dumps(
            json.loads(request.body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, RecursionError):  # not JSON (the view answers 400): the raw bytes
        body = request.body
    digest = hashlib.sha256(f"{request.method}\n{request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def keeps(status: int) -> bool:
    return (200 <= status < 300 or 400 <= status < 500) and status not in NOT_KEPT


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if (
            key is None
            or request.method != "POST"
            or not is_api_path(request.path)
            or request.path.startswith(EXEMPT_PREFIX)
        ):
            return self.get_response(request)
        user = self.authenticate(request)
        if user is None:
            return self.get_response(request)  # the view answers 401
        permitted = self.permitted(request, user)
        if permitted is None:
            return self.get_response(request)  # the view answers 403
        if not 1 <= len(key) <= 255:
            return error_response(
                400, "invalid", f"{HEADER} must be 1 to 255 characters long.", attr=HEADER
            )
        outcome, record = self.claim(user, key, fingerprint(request))
        if outcome == "replay":
            return self.replay(record, withhold=representation_withheld(permitted))
        if outcome == "mismatch":
            return error_response(
                422,
                "idempotency_key_reused",
                f"This {HEADER} was used with a different request.",
            )
        if outcome == "in_progress":
            return error_response(
                409,
                "idempotency_key_in_use",
                f"A request with this {HEADER} is still being processed.",
            )
        try:
            response = self.get_response(request)
        except BaseException:
            self.release(record)
            raise
        if keeps(response.status_code):
            self.store(record, response)
        else:
            self.release(record)
        return response

    @staticmethod
    def authenticate(request):
        """The request's user as the view will see it, or None (the view then answers 401)."""
        for authentication_class in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
            try:
                result = authentication_class().authenticate(request)
            except APIException:
                return None
            if result is not None:
                return result[0]
        return None

    @staticmethod
    def permitted(request, user) -> Request | None:
        """The request as the views' default permissions see it, or None if one refuses it."""
        checked = Request(request)
        checked.user = user  # as authenticated above, as the view will set it
        for permission_class in api_settings.DEFAULT_PERMISSION_CLASSES:
            if not permission_class().has_permission(checked, None):
                return None
        return checked

    @staticmethod
    def claim(user, key: str, print_: str):
        """("new" | "replay" | "mismatch" | "in_progress", record)."""
        for _ in range(3):
            now = timezone.now()
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=user, key=key, fingerprint=print_, created_at=now, started_at=now
                    )
                return "new", record
            except IntegrityError:
                pass
            with transaction.atomic():
                record = (
                    IdempotencyRecord.objects.select_for_update().filter(user=user, key=key).first()
                )
                if record is None:  # the first request just gave the key back: try again
                    continue
                if record.created_at < now - KEEP_FOR:
                    IdempotencyRecord.objects.filter(pk=record.pk).delete()
                    continue
                if record.fingerprint != print_:
                    return "mismatch", record
                if record.completed_at is not None:
                    return "replay", record
                if record.started_at > now - IN_PROGRESS_FOR:
                    return "in_progress", record
                record.started_at = now  # the first attempt has been gone for 60 s: take over
                record.save(update_fields=["started_at"])
                return "new", record
        return "in_progress", None

    @staticmethod
    def store(record, response) -> None:
        headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
        IdempotencyRecord.objects.filter(pk=record.pk, started_at=record.started_at).update(
            completed_at=timezone.now(),
            response_status=response.status_code,
            response_body=response.content.decode("utf-8"),
            response_headers=headers,
        )

    @staticmethod
    def release(record) -> None:
        IdempotencyRecord.objects.filter(pk=record.pk, started_at=record.started_at).delete()

    @staticmethod
    def replay(record, *, withhold: bool = False) -> HttpResponse:
        body = record.response_body
        if withhold and 200 <= record.response_status < 300 and body:
            body = json.dumps(withheld(json.loads(body)))
        response = HttpResponse(body.encode("utf-8"), status=record.response_status)
        for name, value in record.response_headers.items():
            response[name] = value
        response["Idempotent-Replayed"] = "true"
        return response
