"""prune_core: pruning recipes, criteria, fine-tuning and honest metrics for Keras models.

Importing the package is cheap and does not import TensorFlow: the Streamlit process uses
`prune_core.recipe.spec` and friends without ever loading TF. Modules that need TF import it
through `prune_core.engine.keras_env`.

`prune(model, train, test, **recipe)` is the Python API (docs/python.md); it imports the engine,
and TensorFlow with it, only when it is called.
"""

from prune_core.errors import Canceled, DataError, ModelError, PruneError, SpecError

__version__ = "0.1.0"


def prune(model, train, test, **options):
    """Prune a Keras model in memory on arrays or tf.data datasets; returns `Pruned(model,
    result)`. See `prune_core.engine.notebook.prune` for every argument."""
    from prune_core.engine.notebook import prune as run

    return run(model, train, test, **options)


__all__ = ["Canceled", "DataError", "ModelError", "PruneError", "SpecError", "prune", "__version__"]
