"""Validation of the request bodies the API accepts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError

from .sessions import MAX_REFRESH_TOKEN_LENGTH

# Longer than any password a person types, short enough that hashing it is
# cheap; a longer value is refused before it reaches the hasher.
MAX_PASSWORD_LENGTH = 1024
MAX_IDENTIFIER_LENGTH = 254


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing too deeply nested bodies with a 400."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # Python's json gives up on deep nesting with RecursionError,
            # which DRF does not turn into a parse error.
            raise ParseError("JSON parse error - nested too deeply.") from None


class TextField(serializers.CharField):
    """A ``CharField`` that refuses numbers rather than turning them into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _password_field() -> serializers.CharField:
    return TextField(
        max_length=MAX_PASSWORD_LENGTH, trim_whitespace=False, write_only=True
    )


def _username_field() -> serializers.CharField:
    model = get_user_model()
    field = model._meta.get_field(model.USERNAME_FIELD)
    return TextField(
        max_length=field.max_length or MAX_IDENTIFIER_LENGTH,
        validators=[v for v in field.validators],
    )


def _check_password_strength(password: str, user: Any) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(list(exc.messages)) from None


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = _password_field()

    def get_fields(self) -> dict[str, serializers.Field]:
        # The username field follows the user model, which is only known
        # once the app registry is ready.
        fields = super().get_fields()
        return {"username": _username_field(), **fields}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        model = get_user_model()
        candidate = model(
            **{
                model.USERNAME_FIELD: attrs["username"],
                model.get_email_field_name(): attrs["email"],
            }
        )
        try:
            _check_password_strength(attrs["password"], candidate)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"password": exc.detail}) from None
        return attrs


class LoginSerializer(serializers.Serializer):
    username = TextField(max_length=MAX_IDENTIFIER_LENGTH)
    password = _password_field()
    otp = TextField(max_length=16, required=False, allow_blank=False)


class RefreshSerializer(serializers.Serializer):
    refresh_token = TextField(max_length=MAX_REFRESH_TOKEN_LENGTH)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = _password_field()
    new_password = _password_field()

    def validate_new_password(self, value: str) -> str:
        _check_password_strength(value, self.context["request"].user)
        return value
