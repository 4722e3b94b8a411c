"""The log keeps a token's id rather than a foreign key to it: audit sits below tokens, and an
entry outlives the token it records. The column stays; its constraint and own index go."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_rotation_and_policy_events"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="token",
            field=models.ForeignKey(
                blank=True,
                null=True,
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="tokens.token",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="auditevent", name="audit_token_time"),
                migrations.RemoveField(model_name="auditevent", name="token"),
                migrations.AddField(
                    model_name="auditevent",
                    name="token_id",
                    field=models.BigIntegerField(blank=True, null=True),
                ),
                migrations.AddIndex(
                    model_name="auditevent",
                    index=models.Index(fields=["token_id", "-created_at"], name="audit_token_time"),
                ),
            ],
        ),
    ]
