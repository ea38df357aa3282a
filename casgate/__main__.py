"""python -m casgate: the same as the `casgate` command."""

import sys

from casgate.cli import main

sys.exit(main())
