"""Every viewset says who may do what in one way: a per-action table of permission classes
(core.views.PermissionTableMixin), whose object checks and preconditions run on every object
it hands out."""

from django.urls import get_resolver
from rest_framework.viewsets import ViewSetMixin

from core.views import PermissionTableMixin


def routed_views(patterns=None):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if hasattr(pattern, "url_patterns"):
            yield from routed_views(pattern.url_patterns)
        else:
            view = getattr(pattern.callback, "cls", None)
            if view is not None:
                yield view


def test_every_viewset_uses_the_permission_table():
    viewsets = {view for view in routed_views() if issubclass(view, ViewSetMixin)}

    assert viewsets, "no viewset found under the URLconf"
    assert [view.__name__ for view in viewsets if not issubclass(view, PermissionTableMixin)] == []
