"""pytest configuration: import the in-tree package (bindings/python/contrastive)."""

import os
import sys

BINDINGS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if BINDINGS_DIR not in sys.path:
    sys.path.insert(0, BINDINGS_DIR)
