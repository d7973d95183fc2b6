"""The IT branch's networks: a feedforward CNN (:mod:`cnn`) and a ConvRNN (:mod:`convrnn`) that
adds recurrence to the same convolutions."""

# kind -> (module, class): imported on demand, so a job runs (and its rule tracks) only the code of
# its own model; rules/it_common.smk declares model_module(kind) as code of the rules using it.
MODELS = {
    "cnn": ("insilico.it.models.cnn", "ItCNN"),
    "convrnn": ("insilico.it.models.convrnn", "ConvRNN"),
}


def model_module(kind: str) -> str:
    """The module that defines the ``kind`` network (``"cnn"`` -> ``insilico.it.models.cnn``)."""
    if kind not in MODELS:
        raise ValueError(f"unknown IT model kind {kind!r}; allowed: {sorted(MODELS)}")
    return MODELS[kind][0]
