"""Accounts and JWT Bearer authentication for Django REST Framework APIs."""

__version__ = "0.1.0"
