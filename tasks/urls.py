from rest_framework.routers import SimpleRouter

from core.urls_helpers import ID_PATTERN
from tasks import views

router = SimpleRouter()
router.register("tasks", views.TaskViewSet, basename="task")
router.register(
    rf"projects/(?P<project_pk>{ID_PATTERN})/labels", views.LabelViewSet, basename="label"
)
router.register(
    rf"tasks/(?P<task_pk>{ID_PATTERN})/comments", views.CommentViewSet, basename="comment"
)

urlpatterns = router.urls
