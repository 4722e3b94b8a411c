"""allauth's EmailAddress becomes the record of which address is verified; the flag on the user goes."""

from django.db import migrations


def carry_over_verification(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    for user in User.objects.all().iterator():
        EmailAddress.objects.update_or_create(
            user=user,
            email=user.email.lower(),
            defaults={"verified": user.email_verified_at is not None, "primary": True},
        )


def restore_flag(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    for address in EmailAddress.objects.filter(primary=True, verified=True).select_related("user"):
        User.objects.filter(pk=address.user_id).update(email_verified_at=address.user.date_joined)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.RunPython(carry_over_verification, restore_flag),
        migrations.RemoveField(model_name="user", name="email_verified_at"),
    ]
