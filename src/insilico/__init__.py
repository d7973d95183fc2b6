"""insilico: deep-network models of the visual system, built and dissected by a Snakemake pipeline."""

__version__ = "0.1.0"
