"""`GET tasks/` filters and ordering, exactly as the contract lists them.

Every parameter is validated by a form field, so a bad value (NUL bytes included) is a 400
naming the parameter instead of reaching the database.
"""

from django import forms
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django_filters import rest_framework as filters
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.filters import BaseFilterBackend

from core.numbers import MAX_BIGINT, positive_bigint
from core.query import repeated_error, single_value
from tasks.dates import DateFormField
from tasks.models import PRIORITY_ORDER, STATUS_ORDER, Priority, Status, Task
from tasks.selectors import today_for

DUE_BUCKETS = ["overdue", "today", "future", "none"]
# Filters that, given several times, combine like their comma forms.
COMBINED = ("status", "priority", "label")


class StatusListField(forms.CharField):
    """One status or a comma-separated list of them."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return []
        statuses = [part.strip() for part in value.split(",")]
        unknown = [s for s in statuses if s not in Status.values]
        if unknown:
            # The value goes in as a parameter, never into the message itself: django-filter
            # formats the message with its parameters, and a `%` in the value was a 500.
            raise forms.ValidationError(
                "Unknown status %(value)r; use %(choices)s.",
                code="invalid_choice",
                params={"value": unknown[0][:40], "choices": ", ".join(Status.values)},
            )
        return statuses


class PriorityListField(forms.CharField):
    """One priority or a comma-separated list of them."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return []
        priorities = [part.strip() for part in value.split(",")]
        unknown = [p for p in priorities if p not in Priority.values]
        if unknown:
            raise forms.ValidationError(  # the value as a parameter (StatusListField)
                "Unknown priority %(value)r; use %(choices)s.",
                code="invalid_choice",
                params={"value": unknown[0][:40], "choices": ", ".join(Priority.values)},
            )
        return priorities


class AssigneeField(forms.CharField):
    """A user id, `me` or `none`."""

    def clean(self, value):
        value = super().clean(value)
        if value in ("", None, "me", "none"):
            return value
        user_id = positive_bigint(value)
        if user_id is None:
            raise forms.ValidationError("Use a user id, 'me' or 'none'.", code="invalid")
        return user_id


class ParentField(forms.CharField):
    """A task id or `none`."""

    def clean(self, value):
        value = super().clean(value)
        if value in ("", None, "none"):
            return value
        task_id = positive_bigint(value)
        if task_id is None:
            raise forms.ValidationError("Use a task id or 'none'.", code="invalid")
        return task_id


MAX_LABEL_FILTER_IDS = 100


class LabelListField(forms.CharField):
    """Label ids and `none`, comma-separated: (whether `none` was named, the ids)."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        # At most the cap and `none`, plus the rest unsplit: the work stays bounded.
        parts = [part.strip() for part in value.split(",", MAX_LABEL_FILTER_IDS + 1)]
        if len([part for part in parts if part != "none"]) > MAX_LABEL_FILTER_IDS:
            raise forms.ValidationError(
                f"Name at most {MAX_LABEL_FILTER_IDS} labels.", code="max_length"
            )
        ids = {positive_bigint(part) for part in parts if part != "none"}
        if None in ids:
            raise forms.ValidationError(
                "Use label ids and 'none', comma-separated.", code="invalid"
            )
        return "none" in parts, sorted(ids)


class LabelFilter(filters.Filter):
    """Tasks carrying any of the labels, or (`none`) no label at all: EXISTS on the task's
    rows of the labels' table, so each task is tested by its own index entries."""

    field_class = LabelListField

    def filter(self, qs, value):
        if not value:
            return qs
        without_labels, label_ids = value
        carried = Task.labels.through.objects.filter(task_id=OuterRef("pk"))
        condition = Q()
        if label_ids:
            condition |= Q(Exists(carried.filter(label_id__in=label_ids)))
        if without_labels:
            condition |= ~Q(Exists(carried))
        return qs.filter(condition)


class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField


class IsoDateFilter(filters.DateFilter):
    field_class = DateFormField


class StatusListFilter(filters.Filter):
    field_class = StatusListField

    def filter(self, qs, value):
        return qs.filter(status__in=value) if value else qs


class PriorityListFilter(filters.Filter):
    field_class = PriorityListField

    def filter(self, qs, value):
        return qs.filter(priority__in=value) if value else qs


class AssigneeFilter(filters.Filter):
    field_class = AssigneeField

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        if value == "me":
            return qs.filter(assignee=self.parent.request.user)
        if value == "none":
            return qs.filter(assignee__isnull=True)
        return qs.filter(assignee_id=value)


class ParentFilter(filters.Filter):
    """A task's direct subtasks, or (`none`) top-level tasks only."""

    field_class = ParentField

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        if value == "none":
            return qs.filter(parent__isnull=True)
        return qs.filter(parent_id=value)


class TaskFilterSet(filters.FilterSet):
    """The filters as they validate; tasks.schema.LIST_PARAMETERS documents them."""

    project = IdFilter(field_name="project_id", min_value=1, max_value=MAX_BIGINT)
    status = StatusListFilter()
    priority = PriorityListFilter()
    due = filters.ChoiceFilter(
        choices=[(bucket, bucket) for bucket in DUE_BUCKETS],
        method="filter_due",
        error_messages={
            "invalid_choice": f"Unknown due bucket %(value)r; use {', '.join(DUE_BUCKETS)}."
        },
    )
    due_after = IsoDateFilter(field_name="due_date", lookup_expr="gte")
    due_before = IsoDateFilter(field_name="due_date", lookup_expr="lte")
    assignee = AssigneeFilter()
    search = filters.CharFilter(method="filter_search", max_length=200)
    parent = ParentFilter()
    label = LabelFilter(field_name="labels")  # for the schema; LIST_PARAMETERS documents it

    class Meta:
        model = Task
        fields = [
            "project",
            "status",
            "priority",
            "due",
            "due_after",
            "due_before",
            "assignee",
            "search",
            "parent",
            "label",
        ]

    def __init__(self, data=None, *args, **kwargs):
        """`status` and `priority` given several times combine like their comma forms; any
        other filter given twice is refused in `is_valid`."""
        self.repeated = []
        if data is not None:
            data = data.copy()
            for name in COMBINED:
                values = data.getlist(name)
                if len(values) > 1:
                    data.setlist(name, [",".join(values)])
            self.repeated = [
                name
                for name in self.base_filters
                if name not in COMBINED and len(data.getlist(name)) > 1
            ]
        super().__init__(data, *args, **kwargs)

    def get_form_class(self):
        """Built once per class: django-filter builds a new form class (a field per filter,
        with its label) for every request (bench/README.md has what it cost). Nothing in it
        depends on the request; each form still gets its own copy of the fields."""
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def is_valid(self):
        valid = super().is_valid()
        for name in self.repeated:
            self.form.add_error(name, forms.ValidationError(repeated_error(name), code="repeated"))
        return valid and not self.repeated

    def filter_due(self, qs, name, value):
        today = today_for(self.request.user)
        if value == "overdue":
            return qs.filter(due_date__lt=today).exclude(status=Status.COMPLETED)
        if value == "today":
            return qs.filter(due_date=today)
        if value == "future":
            return qs.filter(due_date__gt=today)
        return qs.filter(due_date__isnull=True)

    def filter_search(self, qs, name, value):
        return qs.filter(Q(title__icontains=value) | Q(description__icontains=value))


class TaskFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, skipped when the request names no filter: an unfiltered list
    builds and validates no filter form for nothing (bench/README.md)."""

    def filter_queryset(self, request, queryset, view):
        if not any(name in request.query_params for name in TaskFilterSet.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


def _order_expression(field: str, descending: bool):
    if field == "status":
        return STATUS_ORDER.desc() if descending else STATUS_ORDER.asc()
    if field == "priority":  # by urgency, served by the index tasks_project_priority_rank
        return PRIORITY_ORDER.desc() if descending else PRIORITY_ORDER.asc()
    if field == "due_date":
        # No due date sorts last whichever way the dates run.
        expression = F("due_date")
        return expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return F(field).desc() if descending else F(field).asc()


class TaskOrdering(BaseFilterBackend):
    """`ordering=due_date,-status`: validated, workflow-ranked (and urgency-ranked for
    `priority`), nulls last, `id` tie-breaker; `position` compares by code point (its column's
    collation, tasks.models.Task.position).

    DRF's OrderingFilter silently drops unknown fields and can do neither the status rank nor
    nulls-last; the contract wants both, and a 400 for a field it does not know.
    """

    param = "ordering"
    fields = ("due_date", "status", "priority", "position", "created_at", "updated_at", "title")
    default = "-created_at"

    def parse(self, raw: str) -> list[tuple[str, bool]]:
        """Each known field at most once, so the work per request is bounded by the number of
        fields however long the parameter is."""
        terms = raw.split(",", len(self.fields))
        if len(terms) > len(self.fields):
            self.refuse(f"Order by at most {len(self.fields)} fields, each named once.")
        parsed = []
        for term in (term.strip() for term in terms):
            descending = term.startswith("-")
            field = term[1:] if descending else term
            if field not in self.fields:
                self.refuse(
                    f"Unknown ordering field {term[:40]!r}; use {', '.join(self.fields)}, "
                    "optionally prefixed with '-'."
                )
            if any(field == seen for seen, _ in parsed):
                self.refuse(f"{field!r} is named more than once; name each field once.")
            parsed.append((field, descending))
        return parsed

    def refuse(self, detail: str):
        raise ValidationError({self.param: [ErrorDetail(detail, code="invalid")]})

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        raw = (single_value(request.query_params, self.param) or "").strip() or self.default
        order = [_order_expression(field, descending) for field, descending in self.parse(raw)]
        return queryset.order_by(*order, "id")
