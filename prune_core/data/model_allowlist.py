"""What a user's Keras model file may name: the allow-lists `model_files` checks a file against.

Every layer class, operation, Keras object and module a model file may name before anything in it
is built. Each is allowed by name, never by "any module": a stock application that saves an
object from elsewhere is listed by its exact (module, class). `prune_core.engine.layers` builds its
layer table on the same names, so what is accepted and what the tracer follows cannot drift.
"""

from __future__ import annotations

#: Layers that keep their input's channels and hold no weights (the engine's "carriers"); the
#: second group costs nothing once converted. `prune_core.engine.layers` builds on these names.
CARRIER_LAYERS = (
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "ZeroPadding2D",
    "Cropping2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "UpSampling2D",
    "MaxPooling1D",
    "AveragePooling1D",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "ZeroPadding1D",
    "Cropping1D",
    "UpSampling1D",
)
FREE_CARRIER_LAYERS = (
    "Dropout",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
    "Identity",
)
#: Layers that join their inputs element-wise.
JOIN_LAYERS = ("Add", "Multiply", "Average", "Maximum", "Minimum", "Subtract")

#: Layer classes a model file may contain.
LAYER_CLASSES = frozenset(
    {
        "InputLayer",
        "Conv2D",
        "Conv1D",
        "SeparableConv2D",
        "Conv2DTranspose",
        "DepthwiseConv2D",
        "Dense",
        "BatchNormalization",
        "Reshape",
        "Rescaling",
        "Flatten",
        "PReLU",
        "Softmax",
        "Concatenate",
        "Normalization",
        "LayerNormalization",
        "TFOpLambda",
        # defined by tf_keras.applications.convnext and .inception_resnet_v2 (Keras' code, loaded
        # by those exact classes)
        "LayerScale",
        "CustomScaleLayer",
        "Custom>CustomScaleLayer",  # the same class, as an `.h5` file names it
        *CARRIER_LAYERS,
        *FREE_CARRIER_LAYERS,
        *JOIN_LAYERS,
    }
)
#: Model containers (a nested one is refused later, with its own message).
MODEL_CLASSES = frozenset({"Functional", "Model", "Sequential"})
#: Op-lambda functions (`x + y`, `tf.nn.relu(x)` saved by a functional model) that join two
#: tensors element-wise, and those that act on each element alone: the engine follows both.
OP_JOINS = (
    "__operators__.add",
    "__operators__.sub",
    "__operators__.mul",
    "__operators__.truediv",
    "math.add",
    "math.subtract",
    "math.multiply",
    "math.truediv",
    "math.divide",
    "math.maximum",
    "math.minimum",
)
OP_ELEMENTWISE = (
    "__operators__.neg",
    "math.negative",
    "math.square",
    "math.sqrt",
    "math.sigmoid",
    "math.tanh",
    "nn.relu",
    "nn.relu6",
    "nn.silu",
    "nn.swish",
    "nn.sigmoid",
    "nn.gelu",
)
#: What an op-lambda layer may call: element-wise arithmetic and activations, and a few reductions.
OP_FUNCTIONS = frozenset({*OP_JOINS, *OP_ELEMENTWISE, "nn.softmax", "math.reduce_mean", "reshape"})
#: Objects other than layers a config may hold, by class: Keras' built-in initializers,
#: regularizers, constraints and dtype policies (anything else, custom ones included, is refused).
OBJECT_CLASSES = frozenset(
    {
        "GlorotUniform",
        "GlorotNormal",
        "HeNormal",
        "HeUniform",
        "LecunNormal",
        "LecunUniform",
        "Zeros",
        "Ones",
        "Constant",
        "RandomNormal",
        "RandomUniform",
        "TruncatedNormal",
        "VarianceScaling",
        "Orthogonal",
        "Identity",
        "L1",
        "L2",
        "L1L2",
        "MaxNorm",
        "MinMaxNorm",
        "NonNeg",
        "UnitNorm",
        "RadialConstraint",
        "DTypePolicy",
        "FloatDTypePolicy",
        "Policy",
    }
)
#: Activations a layer may name (a string, or a "function" object of Keras' activations module).
ACTIVATIONS = frozenset(
    {
        "linear",
        "relu",
        "relu6",
        "leaky_relu",
        "elu",
        "selu",
        "gelu",
        "sigmoid",
        "hard_sigmoid",
        "swish",
        "silu",
        "hard_swish",
        "mish",
        "tanh",
        "softmax",
        "softplus",
        "softsign",
        "exponential",
    }
)
ACTIVATION_MODULES = ("keras.activations", "tf_keras.activations")
#: Python modules a `.keras` config may name.
MODULE_PREFIXES = ("keras.", "tf_keras.")
#: Objects outside Keras' modules that stock `tf_keras.applications` models save, by exact module
#: and class (EfficientNetV2's heads name TensorFlow's own Constant initializer).
STOCK_FOREIGN_OBJECTS = frozenset({("tensorflow.python.ops.init_ops_v2", "Constant")})
#: Layers stock applications define for themselves and register as custom objects, by exact
#: (module, class, registered name): InceptionResNetV2's residual join `a + b * scale`.
STOCK_CUSTOM_OBJECTS = frozenset(
    {
        (
            "tf_keras.src.applications.inception_resnet_v2",
            "CustomScaleLayer",
            "Custom>CustomScaleLayer",
        )
    }
)
