"""Sign-in with Streamlit's own OpenID Connect support, and who may see what.

With an `[auth]` section in `.streamlit/secrets.toml`, nothing but the sign-in screen renders
until the person has signed in, whatever the URL; their role comes from a claim of the identity
token (`crimeprev/config/access.toml`). Without it the dashboard runs in local mode: it serves
only this computer, says so, and its one user holds every role.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import streamlit as st

from crimeprev.access import audit
from crimeprev.access.roles import SEES_UNSUPPRESSED, Role, load_access, role_from_claims
from crimeprev.access.suppression import rules_for, suppress
from crimeprev.config import Config
from crimeprev.store import data_dir

T = TypeVar("T")
IDENTITY_KEY = "identity"
CLAIMS_KEY = "identity_claims"
LOCAL_USER = "local user"
# Local mode shows what this role sees (never more than every role): to check a viewer's view.
LOCAL_ROLE_VARIABLE = "CRIMEPREV_LOCAL_ROLE"
# Pages a role below the one named may not open (by url path).
PAGE_ROLES = {"sql": Role.ANALYST}


@dataclass(frozen=True)
class Identity:
    """The person using this session: who, with which role, and whether in local mode."""

    user: str
    role: Role
    local: bool


def _auth_section() -> Any:
    try:
        return st.secrets.get("auth")
    except (FileNotFoundError, KeyError, ValueError):  # no secrets file, or one without [auth]
        return None
    except Exception:  # Streamlit's own "no secrets" error, whatever its class is called
        return None


def auth_configured() -> bool:
    """Whether `.streamlit/secrets.toml` configures a sign-in provider."""
    return bool(_auth_section())


def _provider() -> str | None:
    """The provider to sign in with: None for the default `[auth]` one, else the first named
    `[auth.NAME]` section."""
    section = _auth_section()
    if section is None or "client_id" in section:
        return None
    named = [name for name, value in section.items() if hasattr(value, "items")]
    return named[0] if named else None


def _loopback(address: str) -> bool:
    if address in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _local_role() -> Role:
    """Every role, unless `CRIMEPREV_LOCAL_ROLE` asks to see the dashboard as a lower one."""
    named = os.environ.get(LOCAL_ROLE_VARIABLE, "").strip()
    return Role.parse(named) if named else Role.ADMIN


def _sign_in_screen() -> None:
    st.set_page_config(page_title="Sign in · Crime Prevention Strategy", layout="centered")
    st.title("Crime Prevention Strategy 2021–25")
    st.write("This dashboard holds police records. Sign in with your organisation account.")
    provider = _provider()
    st.button(
        "Sign in",
        type="primary",
        icon=":material/login:",
        on_click=st.login,
        args=(provider,) if provider else (),
    )


def _only(screen: Callable[[], None]) -> NoReturn:
    """Show `screen` as the app's one page, whatever the URL asked for, and stop: no other
    page is registered, so neither the menu nor any page can render."""
    st.navigation([st.Page(screen, title="Sign in", default=True)], position="hidden").run()
    st.stop()


def _user_name(claims: dict[str, Any]) -> str:
    for claim in ("email", "preferred_username", "name", "sub"):
        if claims.get(claim):
            return str(claims[claim])
    return "unknown"


def require_sign_in() -> Identity:
    """The session's identity; otherwise the sign-in screen (or a sentence) and stop.

    Called by `app.py` before anything else renders."""
    if not auth_configured():
        address = str(st.get_option("server.address") or "")
        if not _loopback(address):

            def refused() -> None:
                st.error(
                    "Sign-in is not configured, so this dashboard serves only this computer: "
                    "start it with `--server.address 127.0.0.1` (as `make run` does), or "
                    "configure [auth] in .streamlit/secrets.toml (see docs/sign-in.md).",
                    icon=":material/lock:",
                )

            _only(refused)
        role = _local_role()
        identity = Identity(LOCAL_USER, role, local=True)
        who = (
            "you hold every role"
            if role == Role.ADMIN
            else f"it shows what the {role.label} role sees"
        )
        st.sidebar.markdown(
            f":orange-background[:material/computer: **Local mode**]: no sign-in is configured, "
            f"the dashboard answers only on this computer (127.0.0.1), and {who}."
        )
        _remember(identity)
        return identity
    if not st.user.is_logged_in:
        _only(_sign_in_screen)
    claims = st.user.to_dict()
    access = load_access(data_dir() / "config")
    role = role_from_claims(claims, access)
    user = _user_name(claims)
    if role is None:

        def no_access() -> None:
            st.set_page_config(
                page_title="No access · Crime Prevention Strategy", layout="centered"
            )
            st.title("Crime Prevention Strategy 2021–25")
            st.error(
                f"You are signed in as {user}, but your account holds none of this dashboard's "
                "roles. Ask its administrator to assign you one.",
                icon=":material/lock:",
            )
            st.button("Sign out", on_click=st.logout, icon=":material/logout:")

        _only(no_access)
    identity = Identity(user, role, local=False)
    st.session_state[CLAIMS_KEY] = claims
    with st.sidebar:
        st.caption(f"Signed in as {user} · {role.label}")
        st.button("Sign out", on_click=st.logout, icon=":material/logout:", type="tertiary")
    _remember(identity)
    return identity


def _remember(identity: Identity) -> None:
    if st.session_state.get(IDENTITY_KEY) != identity:
        record(identity, "sign-in", {"role": identity.role.label, "local": identity.local})
    st.session_state[IDENTITY_KEY] = identity


def current_identity() -> Identity:
    """The identity `require_sign_in` established for this session."""
    identity: Identity = st.session_state[IDENTITY_KEY]
    return identity


def current_claims() -> dict[str, Any]:
    """The claims of this session's identity token (none in local mode)."""
    claims: dict[str, Any] = st.session_state.get(CLAIMS_KEY, {})
    return claims if not current_identity().local else {}


def current_role() -> Role:
    """The role of the person using this session."""
    return current_identity().role


def allowed(role: Role) -> bool:
    """Whether this session's person holds `role` or a higher one."""
    return current_role() >= role


def visible_pages(pages: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The navigation's sections with only the pages this session's role may open."""
    role = current_role()
    shown = {
        section: [p for p in entries if role >= PAGE_ROLES.get(p.url_path, Role.VIEWER)]
        for section, entries in pages.items()
    }
    return {section: entries for section, entries in shown.items() if entries}


def require_role(role: Role, what: str) -> None:
    """Stop the page with a sentence unless this session's role is `role` or higher."""
    if not allowed(role):
        st.info(
            f"{what} is open to the {role.label} role and above; you are signed in as a "
            f"{current_role().label}.",
            icon=":material/lock:",
        )
        st.stop()


def record(identity: Identity, action: str, detail: dict[str, Any]) -> None:
    """Append one event to the audit trail of the data folder in use."""
    audit.append(data_dir(), identity.user, identity.role.label, action, detail)


def record_event(action: str, detail: dict[str, Any]) -> None:
    """Append one event by this session's person to the audit trail."""
    record(current_identity(), action, detail)


def record_page_view(url_path: str) -> None:
    """Record the page and filters this run shows, once for each change of either."""
    view = st.session_state.get("view")
    filters = view.filters.query_params() if view is not None else {}
    seen = (url_path, tuple(sorted(filters.items())))
    if st.session_state.get("audit_last_view") != seen:
        st.session_state["audit_last_view"] = seen
        record_event("view", {"page": url_path, "filters": filters})


def disclosed(result: T, config: Config, args: Any = (), kwargs: Any = None) -> T:
    """What this session's person may see of a figure function's result: for a viewer, small
    counts in the sensitive strands replaced (the one place the pages' figures pass)."""
    if allowed(SEES_UNSUPPRESSED):
        return result
    rules = rules_for(config)
    shown: T = suppress(result, rules, whole=rules.mentions((args, kwargs or {})))
    return shown


def without_paths(text: str) -> str:
    """`text` with the data folder's location named only to administrators."""
    if allowed(Role.ADMIN):
        return text
    root = data_dir()
    for form in {str(root.resolve()), str(root)}:
        text = text.replace(form, "the data folder")
    return text
