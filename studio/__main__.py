"""The ``influencerai-studio`` command: the app by default, verb groups for everything else."""
from __future__ import annotations

import sys

from studio.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
