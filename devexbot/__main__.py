import sys

from devexbot.cli import main

sys.exit(main())
