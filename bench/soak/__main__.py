"""`python -m bench.soak --minutes 10 --rate 20`: see docs/soak.md."""

import sys

from bench.soak.run import main

sys.exit(main())
