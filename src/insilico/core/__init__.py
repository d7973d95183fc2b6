"""What two or more branches share, and nothing else.

- :mod:`config`: schema defaults and validation of the whole configuration.
- :mod:`io`: atomic writes, netCDF, safe ``torch.load``.
- :mod:`logs`: one log file per job.
- :mod:`device`: CUDA choice, bf16 autocast, deterministic kernels, one GPU per job.
- :mod:`checkpoint`: the run state every trainer shares (fingerprint, seeds, checkpoint, resume,
  early stopping).
- :mod:`stats`: the one Pearson correlation (NumPy and torch), FEV, split-half reliability with
  Spearman-Brown.
- :mod:`units`: the bin widths and the grey level.
- :mod:`codedeps`: the package modules a script imports (a rule's code inputs).
"""
