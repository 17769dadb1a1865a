"""Pure functions and small modules, no estimator fit: metrics, the VaDE maths, network
builders, partitions, the manifold map, utilities, data sets."""
