"""Datasets, image folders and model-file checks (numpy and Pillow; no Keras)."""
