"""The test suite, in layers: unit, engine, estimators, contract, quality, integration."""
