"""Population geometry of model layers and recordings: manifold capacity and spectral prediction.

Why a sibling package of ``it/`` rather than a part of it: the geometry analyses are theory
(replica mean-field manifold capacity, the spectral theory of ridge prediction) that needs nothing
from the IT models but arrays of responses, so the numerical core (``qp``, ``capacity``,
``separability``, ``spectral``, ``ridge``) imports only numpy and scipy and is reusable for any
branch's representations (retina layers, RNN states). Only the pipeline adapters read what the IT
branch caches (layer activations, the assembly, its scores), which the dependency rule allows
(geometry uses ``it``); IT itself never depends on geometry.
"""
