"""Mechanisms from the model (Tanaka et al. 2019) and a check against the true circuit.

- :mod:`~insilico.mechanisms.stimuli`: the structured stimuli of retinal phenomenology as movies.
- :mod:`~insilico.mechanisms.experiments`: responses of a CNN and of the simulated retina to them,
  and each phenomenon's standard summary.
- :mod:`~insilico.mechanisms.attribution`: integrated gradients to the hidden channels.
- :mod:`~insilico.mechanisms.reduction`: the smallest channel set that still shows the phenomenon.
- :mod:`~insilico.mechanisms.groundtruth`: do the selected channels match the true pathways?
"""
