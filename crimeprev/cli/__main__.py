"""`python -m crimeprev.cli`: the same entry point as the `crimeprev` script."""

import sys

from crimeprev.cli.main import main

sys.exit(main())
