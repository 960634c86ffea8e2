-- The CA's records: holders and their secret questions, reference codes,
-- the certificates issued to holders and those the root issued, coupons.
-- IF NOT EXISTS: databases made before migrations were numbered already
-- hold these tables (the columns they lack are added after this file).
CREATE TABLE IF NOT EXISTS holders (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL,
	title         TEXT NOT NULL,
	member_number TEXT NOT NULL,
	organization  TEXT NOT NULL,
	email         TEXT NOT NULL,
	created       INTEGER NOT NULL,
	seal          INTEGER NOT NULL DEFAULT 0, -- an organisation's seal, not a person
	org_id        TEXT NOT NULL DEFAULT '',   -- a seal's organizationIdentifier
	country       TEXT NOT NULL DEFAULT ''    -- a seal's country
);
CREATE TABLE IF NOT EXISTS questions (
	holder_id   INTEGER NOT NULL REFERENCES holders(id),
	idx         INTEGER NOT NULL,
	question    TEXT NOT NULL,
	answer_hash TEXT NOT NULL,
	PRIMARY KEY (holder_id, idx)
);
CREATE TABLE IF NOT EXISTS refs (
	code          TEXT PRIMARY KEY,
	holder_id     INTEGER NOT NULL REFERENCES holders(id),
	created       INTEGER NOT NULL,
	expires       INTEGER NOT NULL,
	shown         TEXT NOT NULL,              -- question indexes shown, "0,2,4"
	failures      INTEGER NOT NULL DEFAULT 0, -- wrong answer sets, and attempts being checked
	window_start  INTEGER NOT NULL DEFAULT 0, -- start of the current window of answer checks
	window_checks INTEGER NOT NULL DEFAULT 0, -- answer checks in that window, right ones included
	used          INTEGER NOT NULL DEFAULT 0,
	superseded    INTEGER NOT NULL DEFAULT 0, -- a newer code was issued (reissue)
	auth_code     TEXT,                       -- one-time, cleared when used
	auth_expires  INTEGER
);
CREATE TABLE IF NOT EXISTS certs (
	serial      TEXT PRIMARY KEY,
	holder_id   INTEGER NOT NULL REFERENCES holders(id),
	ref_code    TEXT UNIQUE REFERENCES refs(code),    -- one certificate per reference, ever
	predecessor TEXT UNIQUE REFERENCES certs(serial), -- one successor per certificate, ever
	issued      INTEGER NOT NULL,
	not_after   INTEGER NOT NULL,
	der         BLOB NOT NULL,
	revoked     INTEGER,
	reason      TEXT
);
CREATE TABLE IF NOT EXISTS root_certs ( -- what the root issued: issuing CA, TSA, TLS
	serial    TEXT PRIMARY KEY,
	role      TEXT NOT NULL,
	issued    INTEGER NOT NULL,
	not_after INTEGER NOT NULL,
	der       BLOB NOT NULL,
	revoked   INTEGER,
	reason    TEXT
);
CREATE TABLE IF NOT EXISTS coupons (
	hash    TEXT PRIMARY KEY,                -- SHA-256 of the code; the code itself is not kept
	created INTEGER NOT NULL,
	used_by TEXT REFERENCES certs(serial),   -- the certificate issued with it
	used_at INTEGER
);
CREATE INDEX IF NOT EXISTS refs_holder ON refs(holder_id);
CREATE INDEX IF NOT EXISTS certs_holder ON certs(holder_id);
