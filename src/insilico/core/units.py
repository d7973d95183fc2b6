"""Units shared by the branches, each defined once.

The retina recordings (deep-retina layout) bin responses at the movie's frame rate, 100 Hz: one
frame is one response bin. The simulated retina, the models, the trainer, the evaluation and the
mechanism stimuli all use that bin. The IT branch's temporal assemblies use 10 ms bins too, and one
ConvRNN step stands for one of them.
"""

BIN_SECONDS = 0.01  # one retina movie frame = one response bin
BIN_MS = 1000 * BIN_SECONDS  # the same, in ms (10.0)
IT_BIN_MS = 10  # one IT time bin = one ConvRNN step, in (integer) ms
GREY = 128.0  # mean luminance of every retina stimulus (uint8 pixel value)
