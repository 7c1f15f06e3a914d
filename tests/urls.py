"""URLs for the test suite: the example project's, so tests exercise what ships."""

from example_project.urls import urlpatterns  # noqa: F401
