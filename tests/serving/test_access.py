"""Tests for prune_core.serving.access: the mode, signing in, who may manage a job."""

import stat

import pytest

from prune_core.errors import SpecError
from prune_core.serving import access


@pytest.mark.parametrize(
    "value, mode",
    [
        (None, "local"),
        ("", "local"),
        ("1", "shared"),
        ("yes", "shared"),
        ("0", "open"),
        ("off", "open"),
        ("maybe", "local"),
    ],
)
def test_the_mode_comes_from_one_setting(monkeypatch, value, mode):
    if value is None:
        monkeypatch.delenv("PRUNE_SHARED", raising=False)
    else:
        monkeypatch.setenv("PRUNE_SHARED", value)
    assert access.mode() == mode


def test_only_loopback_addresses_count_as_local():
    assert access.loopback("127.0.0.1") and access.loopback("localhost") and access.loopback("::1")
    assert (
        not access.loopback("")
        and not access.loopback("0.0.0.0")
        and not access.loopback("192.168.1.5")
    )


def test_a_password_list_signs_in_its_users_only(home):
    access.add_user("alice", "correct horse", admin=True)
    access.add_user("bob", "battery staple")
    assert access.verify("alice", "correct horse") == access.Visitor("alice", admin=True)
    assert access.verify("bob", "battery staple") == access.Visitor("bob", admin=False)
    assert access.verify("bob", "correct horse") is None
    assert access.verify("carol", "correct horse") is None
    assert access.verify("alice", "") is None and access.verify("alice", "x" * 100) is None
    text = access.users_path().read_text()
    assert "correct horse" not in text and "$2b$12$" in text  # bcrypt hashes, never the passwords
    assert stat.S_IMODE(access.users_path().stat().st_mode) == 0o600
    access.add_user("bob", "a new password")  # setting a password again replaces it
    assert access.verify("bob", "battery staple") is None and access.verify("bob", "a new password")
    assert access.remove_user("bob") and not access.remove_user("bob")
    assert access.verify("bob", "a new password") is None


@pytest.mark.parametrize(
    "name, password, message",
    [
        ("../etc", "long enough", "user name"),
        ("", "long enough", "user name"),
        ("a b", "long enough", "user name"),
        ("alice", "short", "at least 8"),
        ("alice", "é" * 40, "at most 72 bytes"),
    ],
)
def test_bad_names_and_passwords_are_refused_and_change_nothing(home, name, password, message):
    with pytest.raises(SpecError, match=message):
        access.add_user(name, password)
    assert access.load_users() == {}


def test_a_damaged_password_list_signs_no_one_in(home):
    access.users_path().write_text(
        '{"alice": {"hash": "not a bcrypt hash"}, "../x": {"hash": "y"}, "bob": 3}'
    )
    assert set(access.load_users()) == {"alice"}
    assert access.verify("alice", "anything at all") is None
    access.users_path().write_text("[not json")
    assert access.load_users() == {}


def test_failed_sign_ins_lock_a_name_for_a_while():
    now = [0.0]
    throttle = access.Throttle(limit=3, lock_seconds=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.wait_left("alice") == 0
        throttle.failed("alice")
    assert throttle.wait_left("alice") == pytest.approx(60)
    assert throttle.wait_left("bob") == 0  # one name's failures do not lock another
    now[0] = 59.0
    assert throttle.wait_left("alice") == pytest.approx(1)
    now[0] = 61.0
    assert throttle.wait_left("alice") == 0
    throttle.failed("alice")
    throttle.succeeded("alice")
    assert throttle.wait_left("alice") == 0


def test_visitors_manage_their_own_jobs_and_admins_every_job():
    alice, admin = access.Visitor("alice"), access.Visitor("root", admin=True)
    assert alice.may_manage("alice") and not alice.may_manage("bob") and not alice.may_manage(None)
    assert admin.may_manage("bob") and admin.may_manage(None)
    assert access.LOCAL.may_manage(None) and access.LOCAL.owner_filter is None
    assert alice.owner_filter == "alice" and admin.owner_filter is None
