"""`python -m cencomm` runs the command line."""

from cencomm.cli import main

raise SystemExit(main())
