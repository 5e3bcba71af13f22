from rest_framework.routers import SimpleRouter

from core.urls_helpers import ID_PATTERN
from webhooks import views

router = SimpleRouter()
router.register(
    rf"projects/(?P<project_pk>{ID_PATTERN})/webhooks", views.WebhookViewSet, basename="webhook"
)
router.register(
    rf"projects/(?P<project_pk>{ID_PATTERN})/webhooks/(?P<webhook_pk>{ID_PATTERN})/deliveries",
    views.DeliveryViewSet,
    basename="webhook-delivery",
)

urlpatterns = router.urls
