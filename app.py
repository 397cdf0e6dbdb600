"""Start the browser app: ``python app.py`` (or ``make run``)."""

import sys

from simulator.ui.app import main

if __name__ == "__main__":
    sys.exit(main())
