"""The exact layer on mpmath (ground truth). Same names and signatures as lpsgd.fast."""
