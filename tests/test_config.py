"""Where settings come from and what a wrong one says (bot/config.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


@pytest.mark.usefixtures("clean_env")
def test_the_env_file_the_environment_and_arguments_in_that_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# a comment\n"
        "SHARE_LINK_DAYS=14\n"
        "INVITE_DAYS=3\n"
        'REMINDER_AFTER="P2D"\n'
        "web_port=9000\n"  # names in any case, as in the environment
        "QUIET_HOURS=\n",  # empty: as if unset
        encoding="utf-8",
    )
    settings = load_settings(_env_file=env_file)
    assert settings.share_link_days == 14
    assert settings.reminder_after == timedelta(days=2)
    assert settings.web_port == 9000
    assert settings.quiet_hours is not None  # the default, not "off"

    monkeypatch.setenv("INVITE_DAYS", "5")
    monkeypatch.setenv("WEB_PORT", "")  # empty in the environment: the .env's value holds
    settings = load_settings(_env_file=env_file, share_link_days=21)
    assert settings.invite_days == 5  # the environment over the .env file
    assert settings.share_link_days == 21  # an argument over both
    assert settings.web_port == 9000

    assert load_settings(_env_file=None).share_link_days == 30  # no file: the default


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("share_link_days", "1.5", ("SHARE_LINK_DAYS", "whole number from 1 to 365")),
        ("share_link_days", "366", ("SHARE_LINK_DAYS", "from 1 to 365")),
        ("web_port", "-1", ("WEB_PORT", "0 to 65535")),
        ("telegram_rate_limit", "ten", ("TELEGRAM_RATE_LIMIT", "whole number")),
        ("reminder_rate", "nan", ("REMINDER_RATE", "above 0 and at most 30")),
        ("inbox_lease_seconds", "inf", ("INBOX_LEASE_SECONDS", "at most 3600")),
        ("shutdown_grace_seconds", "0", ("SHUTDOWN_GRACE_SECONDS", "above 0")),
    ],
)
def test_a_number_out_of_its_range_names_the_setting_and_the_range(
    name: str, value: str, words: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **{name: value})
    message = str(caught.value)
    assert message.startswith(f"The setting {name.upper()} is not valid: ")
    for word in words:
        assert word in message


@pytest.mark.usefixtures("clean_env")
def test_numbers_in_range_are_taken_as_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_PORT", " 0 ")
    monkeypatch.setenv("REMINDER_RATE", "2.5")
    monkeypatch.setenv("TELEGRAM_RATE_LIMIT", "0")
    settings = load_settings(_env_file=None)
    assert (settings.web_port, settings.reminder_rate, settings.telegram_rate_limit) == (0, 2.5, 0)


@pytest.mark.usefixtures("clean_env")
def test_none_unsets_an_optional_setting_and_is_refused_for_a_required_one() -> None:
    settings = load_settings(_env_file=None, data_key=None, redis_url=None)
    assert settings.data_key is None and settings.redis_url is None
    with pytest.raises(ConfigError, match="WEB_HOST is not valid: must be set"):
        load_settings(_env_file=None, web_host=None)


@pytest.mark.usefixtures("clean_env")
def test_an_env_file_that_is_not_text_says_so_in_one_sentence(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"SHARE_LINK_DAYS=14\nPUBLIC_BASE_URL=\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"settings file .*\.env cannot be read \(it is not"):
        load_settings(_env_file=env_file)
