"""The library used from outside: CLI, examples, pipelines and search, Dask, plotting, the
benchmark harness and the tables."""
