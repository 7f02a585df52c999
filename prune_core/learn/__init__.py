"""The Learn page's numbers, figures and words."""
