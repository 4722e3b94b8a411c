def account_tab(request):
    """allauth's signed-in pages (/accounts/...) belong to Settings → Security."""
    if request.path.startswith("/accounts/") and request.user.is_authenticated:
        return {"active_tab": "security"}
    return {}
