CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v INTEGER);
BEGIN;
INSERT INTO kv VALUES('alpha', 1), ('beta', 2), ('gamma', 3);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO kv SELECT 'k' || i, i * i FROM n;
COMMIT;
UPDATE kv SET v = v + 10 WHERE k IN ('alpha', 'gamma');
DELETE FROM kv WHERE k = 'beta';
CREATE INDEX kv_v ON kv(v);
SELECT count(*), sum(v), max(k) FROM kv;
SELECT k, v FROM kv WHERE v < 20 ORDER BY k;
SELECT group_concat(k, ',') FROM (SELECT k FROM kv ORDER BY v DESC LIMIT 5);
PRAGMA integrity_check;
