"""URLs of the example project: the auth API, its JWKS, and one protected view."""

from django.contrib import admin
from django.urls import include, path

from jwt_auth.views import JWKSView

from .views import HelloView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("auth/", include("jwt_auth.urls")),
    path(".well-known/jwks.json", JWKSView.as_view(), name="jwks"),
    path("api/hello/", HelloView.as_view(), name="hello"),
]
