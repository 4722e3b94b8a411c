from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect

from .selectors import organization_list_requiring_two_factor


def two_factors_where_required(view):
    """Members of an organization that requires two factors are sent to set one up before they
    reach tokens, agents, oversight or the audit log."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if user.is_authenticated:
            names = [o.name for o in organization_list_requiring_two_factor(user=user)]
            if names and not user.has_two_factors:
                messages.warning(
                    request,
                    f"{' and '.join(names)} requires two-factor authentication. Add an "
                    "authenticator app or a passkey to reach tokens and agents again.",
                )
                return redirect("mfa_index")
        return view(request, *args, **kwargs)

    return wrapper
