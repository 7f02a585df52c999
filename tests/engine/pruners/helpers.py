"""Helpers shared by the tests of prune_core.engine.pruners: a fine-tuning recipe."""

from prune_core.recipe.spec import TrainingSpec


def _train(epochs, lr=1e-3):
    return TrainingSpec(fine_tune_epochs=epochs, batch_size=16, learning_rate=lr)
