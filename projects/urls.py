from rest_framework.routers import SimpleRouter

from core.urls_helpers import ID_PATTERN
from projects import views

router = SimpleRouter()
router.register("projects", views.ProjectViewSet, basename="project")
router.register(
    rf"projects/(?P<project_pk>{ID_PATTERN})/members", views.MemberViewSet, basename="member"
)

urlpatterns = router.urls
