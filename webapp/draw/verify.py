"""``python -m webapp.draw.verify BUNDLE.json``: check a draw bundle from inside the repository.

The verifier is the engine itself: ``webapp/draw/engine.py`` uses the standard library only, so the very
file that drew a plan is what anyone downloads from the public site as ``verify.py`` and runs alone
(``python verify.py bundle.json``). There is no second copy to drift.
"""

import sys

from webapp.draw.engine import main

if __name__ == "__main__":
    sys.exit(main())
