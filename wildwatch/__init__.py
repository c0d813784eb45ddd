"""wildwatch: finds illegal wildlife products offered for sale online."""
__version__ = "0.1.0"
