"""``python -m roomctl``."""

import sys

from roomctl.cli import main

sys.exit(main())
