"""Grid cells from path integration (Sorscher, Mel, Ganguli & Ocko 2019).

- :mod:`trajectories`: smooth random walks in a square box that turn away from the walls;
- :mod:`place_cells`: Gaussian or difference-of-Gaussians place-cell codes with a softmax readout;
- :mod:`pattern_formation`: the theory: the place-cell correlation's spectrum, its peak k*, and the
  pattern-forming gradient flow with and without nonnegativity;
- :mod:`gridness`: spatial autocorrelograms, the gridness score, grid period and orientation;
- :mod:`analysis`: rate maps and per-unit grid statistics of a population (no torch);
- :mod:`path_integration`: stacked vanilla RNNs trained to path-integrate (torch);
- :mod:`plots`: the figures.
"""
