from projects.models import Task
from projects.schemas import TaskStatus


def test_the_api_offers_exactly_the_task_statuses_the_model_has():
    assert [status.value for status in TaskStatus] == list(Task.Status.values)
