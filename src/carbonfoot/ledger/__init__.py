"""The credit ledger: exactly-once crediting, caps across batches, redemption, audit.

from carbonfoot.ledger import Ledger

with Ledger.open("carbonfoot-ledger.db") as ledger:       # or a postgresql:// URL
    report = ledger.credit(trips)                          # safe to repeat
    ledger.redeem("u42", 300, request_id="order-9", item="bus ticket")
    assert ledger.verify().ok
"""

from carbonfoot.ledger.entries import Reversal
from carbonfoot.ledger.keys import SCOPES, ApiKey, create_key, find_key, list_keys, revoke_key
from carbonfoot.ledger.ledger import (
    CreditReport,
    Ledger,
    Quarantined,
    Receipt,
    RecomputeReport,
    ReviewDecision,
)
from carbonfoot.ledger.positions import Balances, Position
from carbonfoot.ledger.store import (
    DATABASE_ENV,
    DEFAULT_DATABASE,
    SCHEMA_VERSION,
    PostgresStore,
    SqliteStore,
    Store,
    open_store,
)
from carbonfoot.ledger.verify import VerifyReport

__all__ = [
    "DATABASE_ENV",
    "DEFAULT_DATABASE",
    "SCHEMA_VERSION",
    "SCOPES",
    "ApiKey",
    "Balances",
    "CreditReport",
    "Ledger",
    "Position",
    "PostgresStore",
    "Quarantined",
    "Receipt",
    "RecomputeReport",
    "Reversal",
    "ReviewDecision",
    "SqliteStore",
    "Store",
    "VerifyReport",
    "create_key",
    "find_key",
    "list_keys",
    "open_store",
    "revoke_key",
]
