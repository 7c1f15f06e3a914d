import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jwt_auth", "0002_sessions"),
    ]

    operations = [
        migrations.CreateModel(
            name="AddressLock",
            fields=[
                (
                    "ip",
                    models.CharField(max_length=64, primary_key=True, serialize=False),
                ),
                ("locked_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "verbose_name": "address lock",
                "verbose_name_plural": "address locks",
            },
        ),
        migrations.CreateModel(
            name="Attempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "ip",
                    models.CharField(
                        max_length=64, verbose_name="IP address or prefix"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("register", "Register"), ("login", "Login")],
                        max_length=16,
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("success", "Success"),
                            ("failure", "Failure"),
                            ("otp_required", "Code required"),
                            ("otp_failed", "Code failed"),
                            ("banned", "Banned"),
                            ("throttled", "Throttled"),
                        ],
                        max_length=16,
                    ),
                ),
                ("username", models.CharField(blank=True, max_length=150)),
                ("user_agent", models.CharField(blank=True, max_length=255)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="jwt_attempts",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "attempt",
                "verbose_name_plural": "attempts",
                "ordering": ["-created_at"],
                "indexes": [
                    models.Index(
                        fields=["ip", "kind", "outcome", "created_at"],
                        name="jwt_auth_attempt_ip_window",
                    ),
                    models.Index(
                        fields=["user", "kind", "outcome", "created_at"],
                        name="jwt_auth_attempt_user_window",
                    ),
                    models.Index(
                        fields=["created_at"], name="jwt_auth_attempt_created"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Ban",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "ip",
                    models.CharField(
                        max_length=64, verbose_name="IP address or prefix"
                    ),
                ),
                ("reason", models.CharField(max_length=255)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "expires_at",
                    models.DateTimeField(
                        blank=True, help_text="Empty means until lifted.", null=True
                    ),
                ),
                ("lifted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "lifted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "ban",
                "verbose_name_plural": "bans",
                "ordering": ["-created_at"],
                "indexes": [
                    models.Index(fields=["ip", "lifted_at"], name="jwt_auth_ban_ip")
                ],
            },
        ),
        migrations.CreateModel(
            name="Challenge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("code_hash", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField()),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "challenge",
                "verbose_name_plural": "challenges",
                "indexes": [
                    models.Index(
                        fields=["user", "created_at"], name="jwt_auth_challenge_user"
                    )
                ],
            },
        ),
    ]
