"""`python -m gradtutor`."""

import sys

from .cli import main

sys.exit(main())
