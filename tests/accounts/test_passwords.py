import config.settings as project_settings
from accounts.models import User


def test_passwords_are_hashed_with_argon2(db, settings):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = User.objects.create_user(email="argon@example.com", password="a long passphrase")
    assert user.password.startswith("argon2$")
    assert user.check_password("a long passphrase")
