"""Recipes: frozen, validated run recipes and what may combine (pure Python)."""
