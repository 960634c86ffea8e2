-- One renewal per coupon, enforced by the database too.
CREATE UNIQUE INDEX coupons_used_by ON coupons(used_by);

-- The audit trail: append-only, hash-chained records (ca/audit.go gives
-- the encoding), written in the transaction of the event they record.
CREATE TABLE audit (
	seq     BIGINT PRIMARY KEY, -- 1, 2, 3… with no gap
	at      TEXT NOT NULL,      -- UTC, 2026-12-01T09:30:00.123456Z
	event   TEXT NOT NULL,      -- holder.enrolled, certificate.issued…
	actor   TEXT NOT NULL,      -- operator:NAME, client:ADDRESS, officer:NAME
	subject TEXT NOT NULL,      -- holder:ID, certificate:SERIAL…
	details TEXT NOT NULL,      -- a JSON object of strings
	prev    TEXT NOT NULL,      -- the previous record's hash (zeros for the first)
	hash    TEXT NOT NULL UNIQUE
);
-- The chain's head: the last record's number and hash. Appending locks it
-- (SELECT … FOR UPDATE), which keeps one chain whatever the replicas.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  BIGINT NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head(id, seq, hash) VALUES (1, 0, repeat('0', 64));
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit records are append-only';
END
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
