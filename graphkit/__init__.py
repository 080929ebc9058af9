"""graphkit: find hidden exposure to North Korean forced labour in multi-tier supply chains."""

__version__ = "0.1.0"
