"""The Brain-Score neural predictivity protocol.

- :mod:`splits`: stratified train/test splits of the images.
- :mod:`pls`: batched PLS regression from layer features to neurons.
- :mod:`ceiling`: neural targets and their split-half ceilings.
- :mod:`score`: cross-validated, ceiled scores per layer, region and time bin, and the summary.
"""
