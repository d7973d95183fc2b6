"""The IT branch (Nayebi et al. 2018, Brain-Score): task-trained CNN and ConvRNN scored against
macaque V4 and IT.

- :mod:`assembly`: Brain-Score NeuroidAssembly and stimulus-set files.
- :mod:`simulator`: a ground-truth brain and its simulated experiment; the task images.
- :mod:`models`: the feedforward CNN and the ConvRNN.
- :mod:`train`: object-categorisation training.
- :mod:`activations`, :mod:`cache_keys`: layer activations, cached by content.
- :mod:`protocol`: the Brain-Score protocol (splits, PLS, ceiling, score).
- :mod:`plots`: the branch's figures.
"""
