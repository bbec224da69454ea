package main

// seedPy is the SDK example's sync loop (Fivetran's page-number connector)
// in Python, with sqlite3 in place of the Connector SDK's op.upsert and
// op.checkpoint: requests.get for each page, response.json(), one upsert a
// record, a checkpoint and a commit a page, with the flagship's pragmas.
// The bench runs it when python3 can import requests.
const seedPy = `import json
import sqlite3
import sys

import requests

url, db, per_page = sys.argv[1], sys.argv[2], int(sys.argv[3])
conn = sqlite3.connect(db)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=NORMAL")
conn.execute('CREATE TABLE IF NOT EXISTS "user" ("id" TEXT NOT NULL PRIMARY KEY, "name" TEXT, "email" TEXT, '
             '"address" TEXT, "company" TEXT, "job" TEXT, "updatedAt" TEXT, "createdAt" TEXT)')
conn.execute("CREATE TABLE IF NOT EXISTS state (stream TEXT PRIMARY KEY, state TEXT)")
upsert = ('INSERT INTO "user" VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("id") DO UPDATE SET '
          '"name" = excluded."name", "email" = excluded."email", "address" = excluded."address", '
          '"company" = excluded."company", "job" = excluded."job", "updatedAt" = excluded."updatedAt", '
          '"createdAt" = excluded."createdAt"')
save = "INSERT INTO state VALUES ('user', ?) ON CONFLICT (stream) DO UPDATE SET state = excluded.state"

cursor = "0001-01-01T00:00:00Z"
params = {"order_by": "updatedAt", "order_type": "asc", "per_page": per_page, "updated_since": cursor}
n = 0
while True:
    response = requests.get(url, params=params)
    response.raise_for_status()
    page = response.json()
    items = page.get("data", [])
    if not items:
        break
    for user in items:
        conn.execute(upsert, (user["id"], user["name"], user["email"], user["address"], user["company"],
                              user["job"], user["updatedAt"], user["createdAt"]))
        cursor = user["updatedAt"]
    conn.execute(save, (json.dumps({"last_updated_at": cursor}),))
    conn.commit()
    n += len(items)
    if page.get("page", 0) >= page.get("total_pages", 0):
        break
    params["page"] = page["page"] + 1
conn.close()
print(n)
`
