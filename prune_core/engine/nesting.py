"""A model that nests models (a backbone called as one layer, ConvNeXt's Sequential stem) as one
flat functional model: the same layers, weights and arithmetic, each layer called once, so the
tracer, surgery and the latency table see every layer.

Transfer learning writes `keras.Model(inp, head(backbone(inp)))`; structured pruning needs the
backbone's convolutions in the outer graph. The nested graphs are replayed layer by layer (as
Keras' own `Functional._run_internal_graph` runs them), then the result is rebuilt from its config
so no layer object is shared with the loaded model.
"""

from __future__ import annotations

from prune_core.engine.keras_env import keras, stock_layers, tf
from prune_core.errors import ModelError


def _is_graph(layer) -> bool:
    return isinstance(layer, keras.Model) and hasattr(layer, "_nodes_by_depth")


def _replay(model, inputs: list):
    """`model`'s graph applied to `inputs` layer by layer, nested graphs replayed in turn."""
    usage = model._tensor_usage_count
    tensors = {}
    for x, y in zip(model.inputs, inputs):
        tensors[str(id(x))] = [y] * usage[str(id(x))]
    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            if node.is_input or any(t not in tensors for t in node.flat_input_ids):
                continue
            args, kwargs = node.map_arguments(tensors)
            if _is_graph(node.layer):
                outputs = _replay(node.layer, tf.nest.flatten((args, kwargs.get("inputs"))))
            else:
                outputs = node.layer(*args, **kwargs)
            for x_id, y in zip(node.flat_output_ids, tf.nest.flatten(outputs)):
                tensors[x_id] = [y] * usage[x_id]
    flat = [tensors[str(id(x))].pop() for x in model.outputs]
    return flat[0] if len(flat) == 1 else flat


def flatten(model, filename: str = "the model"):
    """`model` with every nested model unfolded (the model itself when nothing is nested)."""
    if not any(_is_graph(layer) for layer in model.layers):
        return model
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if any(not _is_graph(layer) for layer in nested):
        raise ModelError(f"{filename} nests a subclassed model, which cannot be unfolded")
    inputs = [
        keras.Input(batch_shape=x.shape, dtype=x.dtype, name=x.name.split(":")[0])
        for x in model.inputs
    ]
    replayed = keras.Model(inputs, _replay(model, inputs), name=model.name)
    names = [layer.name for layer in replayed.layers]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise ModelError(
            f"{filename}: the nested models reuse the layer name {clash[0]!r}; give every layer "
            "a unique name and save again"
        )
    try:
        flat = keras.Model.from_config(replayed.get_config(), custom_objects=stock_layers())
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"{filename}: its nested models cannot be unfolded ({first[:160]})"
        ) from None
    for layer in replayed.layers:
        flat.get_layer(layer.name).set_weights(layer.get_weights())
    return flat
