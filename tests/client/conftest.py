"""The Python client's tests (clients/python): it is imported from the working tree, so that these
tests exercise the code beside them whether or not (or however) it is installed in the venv."""

import sys
from pathlib import Path

CLIENT_ROOT = Path(__file__).resolve().parents[2] / "clients" / "python"
if str(CLIENT_ROOT) not in sys.path:
    sys.path.insert(0, str(CLIENT_ROOT))
