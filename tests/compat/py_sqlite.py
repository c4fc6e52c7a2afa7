# Checks python sqlite3 with an in-memory database: schema, parameterised inserts, joins, aggregates, transactions and rollback, user functions.
import sqlite3

con = sqlite3.connect(":memory:")
cur = con.cursor()
cur.executescript("""
CREATE TABLE dept(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE emp(id INTEGER PRIMARY KEY, name TEXT, dept INTEGER REFERENCES dept(id), salary REAL);
""")
cur.executemany("INSERT INTO dept(name) VALUES (?)", [("eng",), ("ops",), ("sales",)])
rows = [("ann", 1, 120.5), ("bob", 1, 99.0), ("cid", 2, 80.0), ("dee", 3, 70.25), ("eve", 1, 150.0), ("fay", None, 10.0)]
cur.executemany("INSERT INTO emp(name, dept, salary) VALUES (?, ?, ?)", rows)
con.commit()

print(cur.execute("SELECT count(*), sum(salary), round(avg(salary), 3) FROM emp").fetchone())
for r in cur.execute("""SELECT d.name, count(e.id), max(e.salary) FROM dept d LEFT JOIN emp e ON e.dept = d.id
                        GROUP BY d.id ORDER BY count(e.id) DESC, d.name"""):
    print(r)
print(cur.execute("SELECT name FROM emp WHERE dept IS NULL").fetchall())
print(cur.execute("SELECT name, salary FROM emp WHERE salary > ? ORDER BY salary DESC LIMIT 2", (90,)).fetchall())

try:
    cur.execute("INSERT INTO dept(name) VALUES ('eng')")
except sqlite3.IntegrityError as e:
    print("IntegrityError:", e)

cur.execute("UPDATE emp SET salary = salary * 2")
print("in transaction:", con.in_transaction, cur.execute("SELECT sum(salary) FROM emp").fetchone())
con.rollback()
print("after rollback:", cur.execute("SELECT sum(salary) FROM emp").fetchone())

con.create_function("shout", 1, lambda s: s.upper() + "!")
print(cur.execute("SELECT shout(name) FROM emp ORDER BY id LIMIT 3").fetchall())
con.row_factory = sqlite3.Row
row = con.execute("SELECT id, name FROM emp WHERE name = :n", {"n": "dee"}).fetchone()
print(dict(row), row.keys())
print(con.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x * 2 FROM c WHERE x < 500) SELECT group_concat(x) FROM c").fetchone()[0])
print(con.execute("SELECT typeof(1), typeof(1.5), typeof('s'), typeof(x'00'), typeof(NULL)").fetchone()[:])
con.close()
