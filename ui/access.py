"""Sign-in and who may act, on the Streamlit side (the rules live in `prune_core.serving.access`).

Every page passes `gate()` before it draws anything: a local dashboard serves only this machine; a
shared one shows nothing but the sign-in until the visitor has signed in — with Streamlit's own
OpenID Connect login when `.streamlit/secrets.toml` has an `[auth]` section, else against the
password list (`python -m prune_core users add NAME`).
"""

from __future__ import annotations

import streamlit as st

from prune_core.serving import access
from ui.text import escape_md

_SESSION_KEY = "_signed_in"


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file, or one Streamlit cannot parse
        return False


def _auth_section() -> dict:
    def plain(value):
        return {k: plain(v) for k, v in value.items()} if hasattr(value, "items") else value

    return plain(st.secrets["auth"])


@st.cache_resource(show_spinner=False)
def _throttle() -> access.Throttle:
    return access.Throttle()


def visitor() -> access.Visitor | None:
    """Who uses this session: the local user outside shared mode; the signed-in visitor; else
    None."""
    if not access.shared():
        return access.LOCAL
    if _oidc_configured():
        if not st.user.is_logged_in:
            return None
        return access.oidc_visitor(st.user.to_dict())
    return st.session_state.get(_SESSION_KEY)


def current() -> access.Visitor:
    """The visitor of a page that passed the gate."""
    return visitor() or gate()


def gate(pages: list | None = None) -> access.Visitor:
    """The visitor, or — when this dashboard must not serve this request — the sign-in page (or the
    reason it serves nothing) drawn in place of every page, and the script stopped. `pages`
    (app.py's) are declared, hidden, so that a deep link such as /compare resolves and survives the
    sign-in."""
    if access.mode() == "local" and not access.loopback(st.get_option("server.address")):
        st.error(
            "This dashboard is reachable from other machines but sign-in is off, so it serves "
            "nothing. "
            "To share it with a class or a team, start it with PRUNE_SHARED=1 (visitors then "
            "sign in; "
            "see the README, \u201cSharing the dashboard\u201d). To use it alone, serve it on "
            "127.0.0.1, as `streamlit run app.py` from the project folder does. (PRUNE_SHARED=0 "
            "serves "
            "it to anyone who can reach it, without sign-in.)"
        )
        _hide(pages)
        st.stop()
    if access.shared() and _oidc_configured():
        problem = access.oidc_problem(_auth_section())
        if problem:  # serve nothing rather than a Streamlit exception at the login button
            st.error(escape_md(problem[0].upper() + problem[1:]) + ".")
            _hide(pages)
            st.stop()
    who = visitor()
    if who is None:
        _hide(pages)
        _sign_in()
        st.stop()
    return who


def _hide(pages: list | None) -> None:
    """Declare the app's pages without showing or running them (none given: a lone sign-in page)."""
    st.navigation(
        pages or [st.Page(_sign_in, title="Sign in", url_path="sign-in")], position="hidden"
    )


def _sign_in() -> None:
    st.title("Sign in")
    st.write(
        "This pruning dashboard is shared with a class or a team. Sign in to see the results and "
        "to "
        "run experiments of your own."
    )
    if _oidc_configured():
        st.button("Sign in with your account", type="primary", on_click=st.login)
        return
    if not access.load_users():
        st.error(
            "Shared mode is on, but no one can sign in yet. On the server, add accounts with "
            "`python -m prune_core users add NAME --admin` (it asks for the password), or "
            "configure "
            "an identity provider under [auth] in .streamlit/secrets.toml (README, \u201cSharing "
            "the "
            "dashboard\u201d)."
        )
        return
    with st.form("sign-in"):
        name = st.text_input("Name", max_chars=64)
        password = st.text_input("Password", type="password", max_chars=200)
        pressed = st.form_submit_button("Sign in", type="primary")
    if pressed:
        throttle, key, session = _throttle(), name.strip(), _session_id()
        refused = throttle.reserve(session, key)  # checked and counted in one step
        if refused:
            st.error(refused)
            return
        who = access.verify(key, password)
        throttle.settle(session, key, ok=who is not None)
        if who is None:
            st.error("That name and password do not match an account here.")
            return
        st.session_state[_SESSION_KEY] = who
        st.rerun()


def _session_id() -> str:
    """This browser session's id (a guesser's own session is the one that waits)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no session"


def sidebar(who: access.Visitor) -> None:
    """Who is signed in, and the way out (shared mode only)."""
    if who.name is None:
        return
    st.sidebar.caption(
        f":material/person: Signed in as **{escape_md(who.name)}**"
        + (" (admin)" if who.admin else "")
    )
    if st.sidebar.button("Sign out", key="sign-out"):
        if _oidc_configured():
            st.logout()  # clears Streamlit's identity cookie and starts a new session by itself
            return
        st.session_state.pop(_SESSION_KEY, None)
        st.rerun()


def start_page():
    """The first call of every page: let only a permitted visitor in (`gate`). Returns the
    visitor."""
    return gate()
