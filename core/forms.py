from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting

# Ids beyond a signed 64-bit integer cannot exist in any table.
MAX_ID = 2**63 - 1


class FormRenderer(TemplatesSetting):
    """Renders every form field with our template (label, help, errors, widget). A form's
    `conditional` names the fields that are optional only as its other choices say, or are
    filters: they show no "optional" mark."""

    field_template_name = "forms/field.html"


def whole_number(text: str) -> int | None:
    """`text` as an integer if it is one in ASCII digits (optionally signed), else None.
    str.isdigit() alone also accepts "²", which int() then refuses."""
    text = text.strip()
    digits = text.removeprefix("-")
    return int(text) if digits.isascii() and digits.isdecimal() else None


def _refuse_ids_out_of_range(field: forms.Field, values: Iterable[Any]) -> None:
    for value in values:
        number = whole_number(str(value))
        if number is not None and not -MAX_ID <= number <= MAX_ID:
            # SQLite raises OverflowError for these instead of finding nothing.
            raise ValidationError(
                field.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": str(value).strip()},
            )


class ModelChoiceField(forms.ModelChoiceField):
    """A model choice whose out-of-range id is an invalid choice, not a database error."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values:
            _refuse_ids_out_of_range(self, [value])
        return super().to_python(value)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several model choices; out-of-range ids are invalid choices, not a database error."""

    def _check_values(self, value: Any) -> Any:
        _refuse_ids_out_of_range(self, value)
        return super()._check_values(value)  # type: ignore[misc]  # Django's, unstubbed


class DescribedRadioSelect(forms.RadioSelect):
    """Radios with a line under each choice saying what it means (`descriptions`, by value), tied
    to its radio by aria-describedby, as GitHub describes each access level."""

    option_template_name = "forms/described_option.html"

    def __init__(self, *args: Any, descriptions: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.descriptions = descriptions

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        value = option["value"]
        option["description"] = self.descriptions.get(str(value), "")
        if option["description"] and option["attrs"].get("id"):
            option["attrs"]["aria-describedby"] = f"{option['attrs']['id']}_description"
        return option
