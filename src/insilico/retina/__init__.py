"""The retina branch (McIntosh et al. 2016): recordings, the simulated retina, models, training,
evaluation and figures.

- :mod:`recording`: reader and writer of the deep-retina HDF5 layout.
- :mod:`simulator`: a simulated retina with a known circuit, in the same layout.
- :mod:`sta`: spike-triggered averages (receptive fields), for the GLM and the analyses.
- :mod:`models`: LN, GLM and CNN, built by one factory.
- :mod:`train`: the trainer (windows on the device, checkpoints, resume, early stopping).
- :mod:`evaluate`: held-out performance, ceilings, data efficiency, generalisation, receptive fields.
- :mod:`plots`: the branch's figures.
"""
