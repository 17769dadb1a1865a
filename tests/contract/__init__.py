"""The contract over ``all_estimators()``, written once, and scikit-learn's common checks."""
