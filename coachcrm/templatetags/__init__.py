# Template tags of the kernel.
