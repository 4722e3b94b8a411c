"""Does sign-up's answer time tell an address that has an account from a new one?

With enumeration prevention both get the same page, but a new account's password is hashed
(Argon2, most of its time) and an existing address's was not: 9 ms against 211 ms, z = -11.
This times both, interleaved in random order, in one process with the production hasher on a
fresh SQLite database, and prints each side's mean and spread and Welch's z (|z| <= 3: the
difference is lost in the noise).

    .venv/bin/python -m bench.signup_timing [samples per side, default 40]
"""

import os
import random
import statistics
import sys
import tempfile
import time


def main(samples: int) -> None:
    folder = tempfile.mkdtemp(prefix="tessera-signup-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/signup.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    mailers = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    limits = {**settings.ACCOUNT_RATE_LIMITS, "signup": ""}
    with override_settings(MAILERS=mailers, ACCOUNT_RATE_LIMITS=limits):
        client = Client(HTTP_HOST="localhost")
        password = "correct-Horse-battery-9"  # noqa: S105 (a throwaway account)

        def sign_up(email: str) -> float:
            started = time.perf_counter()
            response = client.post("/accounts/signup/", {"email": email, "password1": password})
            took = time.perf_counter() - started
            assert response.status_code == 302, response.status_code
            client.logout()
            return took * 1000

        sign_up("taken@example.com")  # the existing account, and a warm-up
        sign_up("warm@example.com")
        kinds = ["existing", "new"] * samples
        random.shuffle(kinds)
        times: dict[str, list[float]] = {"existing": [], "new": []}
        for n, kind in enumerate(kinds):
            email = "taken@example.com" if kind == "existing" else f"new{n}@example.com"
            times[kind].append(sign_up(email))
    existing, new = times["existing"], times["new"]
    for kind, values in times.items():
        print(
            f"{kind:>8}: mean {statistics.mean(values):7.1f} ms, "
            f"sd {statistics.stdev(values):5.1f} ms, n = {len(values)}"
        )
    spread = statistics.variance(existing) / len(existing) + statistics.variance(new) / len(new)
    z = (statistics.mean(existing) - statistics.mean(new)) / spread**0.5
    print(f"z (existing - new) = {z:+.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
