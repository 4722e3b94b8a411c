"""What the background work remembers so that running it twice, or on two hosts, does it once."""

from django.db import models


class ScheduledRun(models.Model):
    """A schedule's job (settings.TASK_SCHEDULES) enqueued for one period: the unique pair is
    how any number of enqueuers agree that it runs once (core.schedules)."""

    job = models.CharField(max_length=100)
    period = models.DateTimeField(help_text="When the period this run belongs to began.")
    enqueued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "period"], name="scheduledrun_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.job} for {self.period:%Y-%m-%d %H:%M}"


class SentEmail(models.Model):
    """An email's idempotency key, stored in the transaction that sends it (core.tasks), so a
    task that is run again finds it and sends nothing."""

    key = models.CharField(max_length=200, unique=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key
