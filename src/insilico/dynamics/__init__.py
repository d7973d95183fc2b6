"""Populations of task-trained recurrent networks and their dynamics (Maheswaranathan et al. 2019).

- :mod:`tasks`: the three tasks (3-bit flip-flop, frequency-cued sine waves, context-dependent
  integration) as seeded trial generators;
- :mod:`cells`: vanilla (tanh), GRU, LSTM and UGRNN step functions on *stacked* parameters, so
  that many networks of one architecture run as one batched computation;
- :mod:`train`: the population (a Cartesian product from config), its split into jobs, and
  lockstep training of every network of a job;
- :mod:`fixed_points`: batched fixed-point search, de-duplication, Jacobians and stability;
- :mod:`similarity`: SVCCA, CKA and Procrustes distances between all pairs of networks, MDS;
- :mod:`topology`: a graph per network from its fixed points and the transitions between them,
  and a distance between graphs;
- :mod:`comparison`: the population compared by those graphs (distances, MDS, silhouettes), and
  its summary table.
"""
