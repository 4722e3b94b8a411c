import pytest


@pytest.fixture(autouse=True)
def _config_home(tmp_path, monkeypatch):
    """Every client test keeps its saved tokens in tmp_path, never in the real home, and starts
    with no TESSERA_URL or TESSERA_TOKEN of the person running it."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("TESSERA_URL", raising=False)
    monkeypatch.delenv("TESSERA_TOKEN", raising=False)
