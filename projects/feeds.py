"""The activity feed endpoints' shared shape (projects/{id}/activity/, tasks/{id}/activity/)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema

from core.schema import POSITIVE_INT64
from projects.serializers import ActivityPageSerializer, ActivitySerializer

PAGE_PARAMETERS = [
    OpenApiParameter("page", {**POSITIVE_INT64}, description="Page number (from 1)."),
    OpenApiParameter(
        "page_size",
        {**POSITIVE_INT64, "default": 20},
        description="Entries per page (default 20; larger values are clamped to 100).",
    ),
]


def feed_schema(*, tag: str, summary: str, description: str):
    return extend_schema(
        tags=[tag],
        summary=summary,
        description=description,
        parameters=PAGE_PARAMETERS,
        responses={200: ActivityPageSerializer},
    )


def feed_response(view, queryset):
    page = view.paginate_queryset(queryset)
    return view.get_paginated_response(ActivitySerializer(page, many=True).data)
