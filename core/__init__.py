"""Plumbing every app shares and that knows no app: the client's address, bounded form fields,
request ids and the HTTP middleware around every page. It imports nothing from the apps, so any
of them may import it."""
