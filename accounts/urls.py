from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts import views

router = SimpleRouter()
router.register("tokens", views.PersonalTokenViewSet, basename="personal-token")

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="auth-register"),
    path("login/", views.LoginView.as_view(), name="auth-login"),
    path("refresh/", views.RefreshView.as_view(), name="auth-refresh"),
    path("logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("me/", views.MeView.as_view(), name="auth-me"),
    path("password/", views.PasswordChangeView.as_view(), name="auth-password"),
    path("password/reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "password/reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("email/verify/", views.EmailVerifyView.as_view(), name="auth-email-verify"),
    path(
        "email/verify/resend/",
        views.EmailVerifyResendView.as_view(),
        name="auth-email-verify-resend",
    ),
    *router.urls,
]
