"""The fast numpy layer. Same names and signatures as lpsgd.reference."""
