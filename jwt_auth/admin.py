"""Admin for users and sessions, with an action that revokes sessions."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Attempt, Ban, RefreshToken, Session, User
from .protection import lift_bans
from .sessions import revoke_sessions


class SessionStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("live", _("Live")),
            ("revoked", _("Revoked")),
            ("expired", _("Expired")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "live":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        return queryset


class RefreshTokenInline(admin.TabularInline):
    model = RefreshToken
    fields = ["created_at", "expires_at", "used_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "user",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoke_reason",
    ]
    list_filter = [SessionStateFilter, "revoke_reason"]
    search_fields = [f"user__{get_user_model().USERNAME_FIELD}", "=id", "user_agent"]
    readonly_fields = [
        "id",
        "user",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoke_reason",
        "user_agent",
    ]
    list_select_related = ["user"]
    inlines = [RefreshTokenInline]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected sessions"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        revoked = revoke_sessions(queryset, Session.RevokeReason.ADMIN)
        self.message_user(
            request,
            ngettext("Revoked %d session.", "Revoked %d sessions.", len(revoked))
            % len(revoked),
            messages.SUCCESS,
        )


if settings.AUTH_USER_MODEL == "jwt_auth.User":

    @admin.register(User)
    class UserAdmin(DjangoUserAdmin):
        add_fieldsets = (
            (
                None,
                {
                    "classes": ("wide",),
                    "fields": ("username", "email", "password1", "password2"),
                },
            ),
        )


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "outcome", "ip", "username", "user"]
    list_filter = ["kind", "outcome", "created_at"]
    search_fields = ["=ip", "username"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    readonly_fields = [f.name for f in Attempt._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class BanStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("ended", _("Lifted or expired"))]

    def queryset(self, request, queryset):
        active = Q(lifted_at__isnull=True) & (
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )
        if self.value() == "active":
            return queryset.filter(active)
        if self.value() == "ended":
            return queryset.exclude(active)
        return queryset


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    list_display = [
        "ip",
        "reason",
        "created_at",
        "expires_at",
        "lifted_at",
        "lifted_by",
    ]
    list_filter = [BanStateFilter, "created_at"]
    search_fields = ["=ip", "reason"]
    readonly_fields = ["created_at", "lifted_at", "lifted_by"]
    actions = ["lift"]

    @admin.action(description=_("Lift the selected bans"), permissions=["change"])
    def lift(self, request: HttpRequest, queryset: QuerySet) -> None:
        lifted = lift_bans(queryset, lifted_by=request.user)
        self.message_user(
            request,
            ngettext("Lifted %d ban.", "Lifted %d bans.", lifted) % lifted,
            messages.SUCCESS,
        )
