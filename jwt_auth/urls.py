"""URLs of the HTTP API; a project includes them under a prefix such as ``auth/``."""

from django.urls import path

from . import views

app_name = "jwt_auth"

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("refresh/", views.RefreshView.as_view(), name="refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("logout/all/", views.LogoutAllView.as_view(), name="logout-all"),
    path("me/", views.MeView.as_view(), name="me"),
    path("password/", views.PasswordChangeView.as_view(), name="password"),
    path("jwks/", views.JWKSView.as_view(), name="jwks"),
    path("introspect/", views.IntrospectView.as_view(), name="introspect"),
]
