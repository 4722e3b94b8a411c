import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0006_rotation_project_tokens_ip_allowlists"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExpiryReminder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("7d", "Expires within 7 days"),
                            ("1d", "Expires within a day"),
                            ("expired", "Expired"),
                        ],
                        max_length=8,
                    ),
                ),
                ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "token",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminders",
                        to="tokens.token",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("token", "kind"), name="expiry_reminder_once")
                ],
            },
        ),
    ]
