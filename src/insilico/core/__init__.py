"""What two or more branches share, and nothing else.

- :mod:`config`: schema defaults and validation of the whole configuration.
- :mod:`io`: atomic writes, netCDF, safe ``torch.load``.
- :mod:`logs`: one log file per job.
- :mod:`device`: CUDA choice, bf16 autocast, deterministic kernels, one GPU per job.
- :mod:`checkpoint`: reading a run's checkpoint back.
- :mod:`stats`: Pearson correlation, FEV, split-half reliability with Spearman-Brown.
- :mod:`codedeps`: the package modules a script imports (a rule's code inputs).
"""
