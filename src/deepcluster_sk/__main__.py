"""``python -m deepcluster_sk``: the command line."""

import sys

from .cli import main

sys.exit(main())
