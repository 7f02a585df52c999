"""prune_core: pruning recipes, criteria, fine-tuning and honest metrics for Keras models.

Importing the package is cheap and does not import TensorFlow: the Streamlit process uses
`prune_core.recipe.spec` and friends without ever loading TF. Modules that need TF import it
through `prune_core.engine.keras_env`.
"""

from prune_core.errors import Canceled, DataError, ModelError, PruneError, SpecError

__version__ = "0.1.0"
__all__ = ["Canceled", "DataError", "ModelError", "PruneError", "SpecError", "__version__"]
