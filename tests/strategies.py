"""Hypothesis strategies shared by the property-based tests of what reads untrusted JSON."""

from hypothesis import strategies as st

#: Any JSON value (NaN and infinities included), nested a few levels.
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
