"""``python -m obsvty``."""

import sys

from obsvty.cli import main

sys.exit(main())
