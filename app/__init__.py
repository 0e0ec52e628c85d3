"""Mission Control: a self-hosted hub for one person's AI assistant and its agent workers."""

from pathlib import Path

# templates/, fragments/, static/ and sql/ sit beside app/ (the design card's top level), so the project
# is installed editable (`pip install -e .`, which `make install` does) and found from here.
ROOT = Path(__file__).resolve().parent.parent
