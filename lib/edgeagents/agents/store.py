"""The course's local "business system": a small SQLite database the agent tools read and write.

It stands in for the CRM / order / ticketing systems an on-device agent would sit beside:
customers, orders, a product catalog, support tickets, callbacks and a small knowledge base.
The library creates and seeds it itself, with fixed data, so every learner sees the same rows.

>>> store = BusinessStore.open_memory()      # tests and quick experiments
>>> store.customer("C001")["name"]
'Ada Lovelace'
>>> store = BusinessStore.open()             # the course's file under EDGEAGENTS_HOME/agents/

Every query is parameterised (``?`` placeholders); nothing a model writes is ever pasted into SQL.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from edgeagents.errors import InvalidRequestError
from edgeagents.settings import load_settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    customer_id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, phone TEXT NOT NULL,
    tier TEXT NOT NULL, city TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
    sku TEXT PRIMARY KEY, name TEXT NOT NULL, price_eur REAL NOT NULL, stock INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(customer_id),
    sku TEXT NOT NULL REFERENCES products(sku), quantity INTEGER NOT NULL, status TEXT NOT NULL,
    placed_on TEXT NOT NULL, eta TEXT);
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL REFERENCES customers(customer_id),
    subject TEXT NOT NULL, priority TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS callbacks (
    callback_id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL REFERENCES customers(customer_id),
    slot TEXT NOT NULL, reason TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS knowledge_base (
    article_id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, tags TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_log (
    audit_id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, tool TEXT NOT NULL,
    arguments TEXT NOT NULL, outcome TEXT NOT NULL, result TEXT NOT NULL, duration_ms REAL NOT NULL);
"""

CUSTOMERS = [
    ("C001", "Ada Lovelace", "ada@example.com", "+44 20 7946 0001", "gold", "London"),
    ("C002", "Alan Turing", "alan@example.com", "+44 161 496 0002", "silver", "Manchester"),
    ("C003", "Grace Hopper", "grace@example.com", "+1 202 555 0103", "gold", "Arlington"),
    ("C004", "Linus Torvalds", "linus@example.com", "+358 9 4242 0004", "bronze", "Helsinki"),
    ("C005", "Margaret Hamilton", "margaret@example.com", "+1 617 555 0105", "silver", "Boston"),
    ("C006", "Rūta Meilutytė", "ruta@example.com", "+370 5 219 0006", "bronze", "Vilnius"),
    ("C007", "Fatima al-Fihri", "fatima@example.com", "+212 535 000 007", "gold", "Fez"),
    ("C008", "Katherine Johnson", "katherine@example.com", "+1 757 555 0108", "bronze", "Hampton"),
]

PRODUCTS = [
    ("SKU-ROUTER", "Edge router R2", 129.0, 14),
    ("SKU-CAM", "Smart camera C1", 79.0, 0),
    ("SKU-HUB", "Home hub H3", 199.0, 6),
    ("SKU-SENSOR", "Door sensor S1", 19.5, 120),
    ("SKU-PLUG", "Smart plug P2", 24.0, 48),
]

ORDERS = [
    ("ORD-1001", "C001", "SKU-ROUTER", 1, "shipped", "2026-11-10", "2026-11-24"),
    ("ORD-1002", "C002", "SKU-CAM", 2, "backordered", "2026-11-12", "2026-12-05"),
    ("ORD-1003", "C003", "SKU-HUB", 1, "delivered", "2026-10-30", None),
    ("ORD-1004", "C004", "SKU-SENSOR", 6, "processing", "2026-11-19", "2026-11-27"),
    ("ORD-1005", "C005", "SKU-PLUG", 3, "shipped", "2026-11-15", "2026-11-23"),
    ("ORD-1006", "C006", "SKU-ROUTER", 1, "cancelled", "2026-11-01", None),
    ("ORD-1007", "C007", "SKU-HUB", 2, "processing", "2026-11-20", "2026-11-29"),
    ("ORD-1008", "C001", "SKU-PLUG", 4, "delivered", "2026-09-02", None),
    ("ORD-1009", "C008", "SKU-CAM", 1, "backordered", "2026-11-18", "2026-12-08"),
    ("ORD-1010", "C003", "SKU-SENSOR", 10, "shipped", "2026-11-16", "2026-11-25"),
]

KNOWLEDGE_BASE = [
    ("KB-01", "Reset the edge router", "Hold the reset button for 10 seconds until the light blinks amber, "
     "then wait two minutes for it to restart.", "router reset restart wifi"),
    ("KB-02", "Camera shows offline", "Check the camera is on 2.4 GHz Wi-Fi, power-cycle it, and update the "
     "firmware from the app.", "camera offline wifi firmware"),
    ("KB-03", "Return policy", "Unused items can be returned within 30 days of delivery for a full refund.",
     "return refund policy"),
    ("KB-04", "Shipping times", "Orders ship within 2 working days; delivery takes 3-5 working days in the EU.",
     "shipping delivery time"),
    ("KB-05", "Warranty", "All devices carry a two-year warranty covering hardware faults.",
     "warranty repair broken"),
    ("KB-06", "Hub will not pair", "Move the device within 3 metres of the hub and hold its pair button "
     "for 5 seconds.", "hub pair pairing sensor"),
]


_AUDIT_INSERT = ("INSERT INTO audit_log (at, actor, tool, arguments, outcome, result, duration_ms) "
                 "VALUES (?,?,?,?,?,?,?)")


def default_store_path() -> Path:
    """``$EDGEAGENTS_HOME/agents/business.sqlite``: where the course keeps its business system."""
    return load_settings().home / "agents" / "business.sqlite"


class BusinessStore:
    """A seeded SQLite business system. Open it with :meth:`open` (a file) or :meth:`open_memory`."""

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self._db = connection
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._txn = threading.Lock()  # held for the whole of a transaction(): one at a time per store
        self._in_txn = False
        self._txn_owner: int | None = None
        self._pending_audit: list[tuple[Any, ...]] = []
        self.path = path
        with self._lock, self._db:
            self._db.executescript(SCHEMA)
        if self._count("customers") == 0:
            self.seed()

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | Path | None = None, *, reset: bool = False) -> BusinessStore:
        """Open (creating and seeding if needed) the store file. ``reset=True`` starts from the seed again."""
        p = Path(path) if path is not None else default_store_path()
        p.parent.mkdir(parents=True, exist_ok=True)
        if reset and p.exists():
            p.unlink()
        return cls(sqlite3.connect(str(p), check_same_thread=False), str(p))

    @classmethod
    def open_memory(cls) -> BusinessStore:
        """A fresh, seeded, in-memory store (gone when closed): for tests and exercises."""
        return cls(sqlite3.connect(":memory:", check_same_thread=False), ":memory:")

    def seed(self) -> None:
        """Write the fixed course data (idempotent: existing rows are replaced)."""
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO customers VALUES (?,?,?,?,?,?)", CUSTOMERS)
            self._db.executemany("INSERT OR REPLACE INTO products VALUES (?,?,?,?)", PRODUCTS)
            self._db.executemany("INSERT OR REPLACE INTO orders VALUES (?,?,?,?,?,?,?)", ORDERS)
            self._db.executemany("INSERT OR REPLACE INTO knowledge_base VALUES (?,?,?,?)", KNOWLEDGE_BASE)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> BusinessStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ queries (all parameterised)
    def _count(self, table: str) -> int:
        if table not in {"customers", "products", "orders", "tickets", "callbacks", "knowledge_base", "audit_log"}:
            raise InvalidRequestError(f"Unknown table {table!r}.")
        return int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608 - allowlisted

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {t: self._count(t) for t in
                ("customers", "products", "orders", "tickets", "callbacks", "knowledge_base", "audit_log")}

    def _one(self, sql: str, params: tuple[Any, ...]) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, params).fetchall()]

    def _insert(self, sql: str, params: tuple[Any, ...]) -> int:
        if self._in_txn:  # part of the open transaction: committed or rolled back with it
            with self._lock:
                return int(self._db.execute(sql, params).lastrowid)
        with self._lock, self._db:
            return int(self._db.execute(sql, params).lastrowid)

    @contextmanager
    def transaction(self) -> Iterator[BusinessStore]:
        """All writes inside are kept together: committed when the block ends, rolled back if it raises.

        The capstone service runs each request in one, so a request that dies half-way (the model runtime
        killed, a tool raising after an earlier write) leaves the database as it was. The audit log is
        the exception on purpose: its rows are written when the block ends *either way*, so a rolled-back
        attempt is still on record. One transaction at a time per store (a second waits); the service
        serialises its requests, so writes made while one is open belong to it.

        >>> with store.transaction():
        ...     store.add_ticket("C001", "dead router", "high", "2026-11-22T09:00:00")
        ...     raise RuntimeError("the model died")      # the ticket is rolled back
        """
        if self._txn_owner == threading.get_ident():
            raise InvalidRequestError("This thread already has a transaction open on the store.",
                                      hint="Nest the writes in the open transaction instead of opening another.")
        with self._txn:
            self._txn_owner = threading.get_ident()
            with self._lock:
                self._db.execute("BEGIN")
            self._in_txn = True
            try:
                yield self
            except BaseException:
                self._in_txn = False
                with self._lock:
                    self._db.rollback()
                self._flush_audit()
                raise
            else:
                self._in_txn = False
                with self._lock:
                    self._db.commit()
                self._flush_audit()
            finally:
                self._txn_owner = None

    def _flush_audit(self) -> None:
        pending, self._pending_audit = self._pending_audit, []
        if pending:
            with self._lock, self._db:
                self._db.executemany(_AUDIT_INSERT, pending)

    def customer(self, customer_id: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM customers WHERE customer_id = ?", (customer_id,))

    def find_customers(self, name_or_email: str) -> list[dict[str, Any]]:
        like = f"%{name_or_email}%"
        return self._all("SELECT * FROM customers WHERE name LIKE ? OR email LIKE ? ORDER BY customer_id",
                         (like, like))

    def order(self, order_id: str) -> dict[str, Any] | None:
        return self._one(
            "SELECT o.*, p.name AS product, c.name AS customer FROM orders o "
            "JOIN products p ON p.sku = o.sku JOIN customers c ON c.customer_id = o.customer_id "
            "WHERE o.order_id = ?", (order_id,))

    def orders_of(self, customer_id: str) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM orders WHERE customer_id = ? ORDER BY order_id", (customer_id,))

    def products(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM products ORDER BY sku")

    def add_ticket(self, customer_id: str, subject: str, priority: str, created_at: str) -> dict[str, Any]:
        tid = self._insert("INSERT INTO tickets (customer_id, subject, priority, status, created_at) "
                           "VALUES (?,?,?,?,?)", (customer_id, subject, priority, "open", created_at))
        return self._one("SELECT * FROM tickets WHERE ticket_id = ?", (tid,)) or {}

    def tickets(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM tickets ORDER BY ticket_id")

    def add_callback(self, customer_id: str, slot: str, reason: str, created_at: str) -> dict[str, Any]:
        cid = self._insert("INSERT INTO callbacks (customer_id, slot, reason, created_at) VALUES (?,?,?,?)",
                           (customer_id, slot, reason, created_at))
        return self._one("SELECT * FROM callbacks WHERE callback_id = ?", (cid,)) or {}

    def callbacks(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM callbacks ORDER BY callback_id")

    def search_kb(self, query: str, limit: int = 3) -> list[dict[str, Any]]:
        """Articles ranked by how many query words appear in their title, body or tags."""
        words = [w for w in query.lower().replace("?", " ").split() if len(w) > 2]
        rows = self._all("SELECT * FROM knowledge_base ORDER BY article_id")
        scored = []
        for r in rows:
            hay = f"{r['title']} {r['body']} {r['tags']}".lower()
            s = sum(1 for w in words if w in hay)
            if s:
                scored.append((s, r))
        scored.sort(key=lambda x: (-x[0], x[1]["article_id"]))
        return [r for _, r in scored[:limit]]

    def write_audit(self, at: str, actor: str, tool: str, arguments: str, outcome: str, result: str,
                    duration_ms: float) -> int | None:
        """Append one audit row; inside :meth:`transaction` it is written when the transaction ends (None)."""
        row = (at, actor, tool, arguments, outcome, result, duration_ms)
        if self._in_txn:
            self._pending_audit.append(row)
            return None
        return self._insert(_AUDIT_INSERT, row)

    def audit_rows(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM audit_log ORDER BY audit_id")

    def __repr__(self) -> str:
        return f"<BusinessStore {self.path}: {self.counts()}>"
