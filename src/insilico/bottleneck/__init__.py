"""Retinal bottleneck (Lindsey, Ocko, Ganguli & Deny 2019): what an optic nerve of few channels
does to the receptive fields of a network trained on object recognition.

- :mod:`model`: the model family (retina, bottleneck of ``n_bn`` channels, ventral stream of
  ``d_vvs`` conv layers, dense classifier) and its training (torch).
- :mod:`probe`: receptive fields by gradient at the blank image and by white-noise STA, the
  bottleneck's responses for the linearity and separability measures (torch).
- :mod:`reference`: spatial receptive fields of the simulated retina's ganglion cells, with the
  same STA code (the reference values of the figures).
- :mod:`analysis`: centre-surround and orientedness indices, linearity, linear separability
  (numpy only).
- :mod:`summary`, :mod:`plots`: the table and figures (numpy, matplotlib).
"""
