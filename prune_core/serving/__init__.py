"""Shared mode: who may act, how much a dashboard accepts, uploaded files."""
