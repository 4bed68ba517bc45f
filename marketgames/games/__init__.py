"""OpenSpiel games of this project; importing this package registers them with ``pyspiel``."""
from . import lob_market  # noqa: F401  (registers python_lob_market)
