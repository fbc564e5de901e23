#!/usr/bin/env python3
"""sql.py sqlite:PATH|postgres:URL "SQL": runs one statement, prints the first value.

Imported, rows(db, statement) gives every row (PostgreSQL's as strings).
"""
import subprocess
import sys


def rows(db, statement):
    if db.startswith("sqlite:"):
        import sqlite3
        conn = sqlite3.connect(db[len("sqlite:"):], timeout=30)
        result = conn.execute(statement).fetchall()
        conn.commit()
        conn.close()
        return result
    out = subprocess.run(["psql", db[len("postgres:"):], "-X", "-A", "-t", "-q", "-c", statement],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(line.split("|")) for line in out.splitlines() if line]


if __name__ == "__main__":
    result = rows(sys.argv[1], sys.argv[2])
    print(result[0][0] if result else "")
