"""Behaviour specific to one estimator: heads, self-training, the DVAE joint phase, warm
start, persistence, reliability."""
