"""The IT branch's networks: a feedforward CNN (:mod:`cnn`) and a ConvRNN (:mod:`convrnn`) that
adds recurrence to the same convolutions."""

# kind -> (module, class): imported on demand, so a job runs (and its rule tracks) only the code of
# its own model; rules/it_common.smk declares model_module(kind) as code of the rules using it.
MODELS = {
    "cnn": ("insilico.it.models.cnn", "ItCNN"),
    "convrnn": ("insilico.it.models.convrnn", "ConvRNN"),
}


def model_kind(name: str) -> str:
    """The kind of a configured model: its name up to the first underscore (``convrnn_lstm`` ->
    ``convrnn``, ``cnn_deep`` -> ``cnn``)."""
    return name.split("_")[0]


def model_module(name: str) -> str:
    """The module that defines the network ``name`` (``"cnn_deep"`` -> ``insilico.it.models.cnn``)."""
    kind = model_kind(name)
    if kind not in MODELS:
        raise ValueError(f"unknown IT model kind {kind!r}; allowed: {sorted(MODELS)}")
    return MODELS[kind][0]
