"""`wildwatch` command groups that have grown past a few lines, one module each; `wildwatch/cli.py` wires them."""
