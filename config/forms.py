from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    """Renders every form field with our template (label, help, errors, widget)."""

    field_template_name = "forms/field.html"
