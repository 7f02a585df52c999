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


def _throttle(now):
    return access.Throttle(
        per_session=access.Limit(3, 60.0),
        per_name=access.Limit(5, 600.0),
        checks_per_second=100,
        clock=lambda: now[0],
    )


def test_a_guessing_session_waits_and_a_right_password_forgives():
    now = [0.0]
    throttle = _throttle(now)
    for _ in range(3):
        assert throttle.reserve("s1", "alice") is None
        throttle.settle("s1", "alice", ok=False)
    assert "from this browser; try again in 60 s" in throttle.reserve("s1", "alice")
    assert throttle.reserve("s1", "bob") is not None  # the session waits, whatever the name
    assert throttle.reserve("s2", "alice") is None  # the owner, elsewhere, is not locked out
    throttle.settle("s2", "alice", ok=True)  # ...and signing in forgives the name's failures
    now[0] = 61.0
    assert throttle.reserve("s1", "alice") is None


def test_many_sessions_guessing_one_name_are_stopped_for_that_name():
    now = [0.0]
    throttle = _throttle(now)
    for i in range(5):
        assert throttle.reserve(f"s{i}", "admin") is None
        throttle.settle(f"s{i}", "admin", ok=False)
    assert "for this name" in throttle.reserve("fresh", "admin")
    assert throttle.reserve("fresh", "alice") is None  # another name is not
    now[0] = 601.0
    assert throttle.reserve("fresh", "admin") is None


def test_password_checks_are_capped_for_the_whole_server():
    now = [0.0]
    throttle = access.Throttle(checks_per_second=3, clock=lambda: now[0])
    assert [throttle.reserve(f"s{i}", f"user{i}") for i in range(3)] == [None] * 3
    assert "try again in a second" in throttle.reserve("s9", "user9")  # spraying across names
    now[0] = 1.01
    assert throttle.reserve("s9", "user9") is None


def test_forty_simultaneous_sign_ins_check_at_most_the_allowed_passwords(home):
    """Forty threads at once, one name, forty sessions: the check and the record are one step, so
    no more passwords are checked than the server's cap allows."""
    import threading

    access.add_user("admin", "the-real-password", admin=True)
    throttle, checked, lock = access.Throttle(checks_per_second=3), [], threading.Lock()
    start = threading.Barrier(40)

    def attempt(i):
        start.wait()
        if throttle.reserve(f"session-{i}", "admin") is None:
            with lock:
                checked.append(i)
            who = access.verify("admin", f"guess-{i}")
            throttle.settle(f"session-{i}", "admin", ok=who is not None)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= len(checked) <= 3


def test_visitors_manage_their_own_jobs_and_admins_every_job():
    alice, admin = access.Visitor("alice"), access.Visitor("root", admin=True)
    assert alice.may_manage("alice") and not alice.may_manage("bob") and not alice.may_manage(None)
    assert admin.may_manage("bob") and admin.may_manage(None)
    assert access.LOCAL.may_manage(None) and access.LOCAL.owner_filter is None
    assert alice.owner_filter == "alice" and admin.owner_filter is None


def test_a_half_configured_openid_section_is_named_in_one_line():
    full = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "s3cret",
        "client_id": "dash",
        "client_secret": "x",
        "server_metadata_url": "http://idp/.well-known/openid-configuration",
    }
    assert access.oidc_problem(full) is None
    named = {
        "redirect_uri": full["redirect_uri"],
        "cookie_secret": "s3cret",
        "school": {"client_id": "dash", "client_secret": "x"},
    }
    problem = access.oidc_problem(named)
    assert problem.endswith("missing auth.school.server_metadata_url") and "\n" not in problem
    assert "auth.cookie_secret" in access.oidc_problem({**full, "cookie_secret": ""})


def test_an_unverified_email_neither_names_a_visitor_nor_makes_an_admin(monkeypatch):
    monkeypatch.setenv("PRUNE_ADMINS", "teacher@school.edu")
    claims = {"sub": "42", "email": "teacher@school.edu"}
    assert access.oidc_visitor(claims) == access.Visitor("id:42", admin=False)
    verified = access.oidc_visitor({**claims, "email_verified": True})
    assert verified == access.Visitor("teacher@school.edu", admin=True)
    assert access.oidc_visitor({}) is None
