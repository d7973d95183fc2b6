"""How could the brain learn? Learning rules without weight transport (Kunin et al. 2020), scored
against V4/IT, and the loss landscape of the networks they train (Fort & Ganguli 2019).

- :mod:`.layers`: linear and convolutional layers whose backward pass uses a feedback kernel
  ``B`` (a buffer of the forward weight's shape) in place of the forward weight ``W``;
- :mod:`.rules`: each learning rule as the feedback kernel it uses and the local update it applies
  to ``B``;
- :mod:`.network`: the IT branch's CNN built from those layers (same parameter names, so a trained
  network is scored by the IT branch's own activation and predictivity code);
- :mod:`.train`: the population (every rule x seed) on the IT branch's task images;
- :mod:`.hessian`: top Hessian eigenvalues by Lanczos on Hessian-vector products;
- :mod:`.claims`: the claims table (numpy/pandas only).
"""
