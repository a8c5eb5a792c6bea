"""``python -m tradestore.postgres -- COMMAND...``: run a command beside a throwaway server.

The command sees ``TRADESTORE_PG_DSN``: the URL of the server already named by
that variable, or of a throwaway local server started from the machine's
PostgreSQL binaries and removed when the command ends.
"""

import sys

from tradestore.postgres._local import main

raise SystemExit(main(sys.argv[1:]))
