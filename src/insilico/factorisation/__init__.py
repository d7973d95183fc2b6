"""Low-rank tensor decomposition (AMP, state evolution, ALS) and convolutive NMF."""
