"""Quality floors on real data with the defaults."""
