from django.utils.functional import SimpleLazyObject

from .selectors import organization_list_administered


def administered_organizations(request):
    """The organizations the user oversees, for the settings navigation; queried only if shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"administered_organizations": []}
    return {
        "administered_organizations": SimpleLazyObject(
            lambda: list(organization_list_administered(user=user))
        )
    }
