"""The command line: one module per verb group, over the engine alone."""
