#!/usr/bin/env python3
"""sql.py sqlite:PATH|postgres:URL "SQL": runs one statement, prints the first value."""
import subprocess
import sys

db, statement = sys.argv[1], sys.argv[2]
if db.startswith("sqlite:"):
    import sqlite3
    conn = sqlite3.connect(db[len("sqlite:"):], timeout=30)
    row = conn.execute(statement).fetchone()
    conn.commit()
    print("" if row is None else row[0])
else:
    out = subprocess.run(["psql", db[len("postgres:"):], "-X", "-A", "-t", "-q", "-c", statement],
                         check=True, capture_output=True, text=True).stdout
    print(out.strip().splitlines()[0] if out.strip() else "")
