"""`python -m callserver` is the `callserver` command."""

import sys

from .cli import main

sys.exit(main())
