"""Which objective shapes the ventral stream (issue 29): MMCR, contrastive and supervised training of
the IT branch's CNN on its rendered images, and pre-training on simulated retinal waves."""
