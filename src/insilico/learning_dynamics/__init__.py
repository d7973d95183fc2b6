"""Exact theory of learning in deep linear networks against simulation: mode trajectories and
semantic development (Saxe, McClelland & Ganguli 2019), generalisation dynamics and transfer of a
noisy teacher (Lampinen & Ganguli 2019), and a ReLU check of where the linear theory fails.
numpy and scipy only: the networks are small and trained by batched full-batch gradient descent."""
