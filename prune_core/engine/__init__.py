"""The side of prune_core that needs TensorFlow: models and data in Keras, criteria, the structured
tracer / cost model / surgery, the pruning engines, training, metrics, TFLite deployment and the
pipeline that runs one recipe. The dashboard's process never imports this package; job processes
and the CLI's `run` / `sweep` do (TensorFlow is loaded through `keras_env`, on first use).
"""
