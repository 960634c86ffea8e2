-- The portal's records: suppliers (the operator creates them, each with a
-- master code), their users (by national ID number, each with a generated
-- user ID), the certificates registered for a user, and the browser
-- sessions with their one challenge at a time. IF NOT EXISTS: a database
-- made before migrations were numbered has these tables already.
CREATE TABLE IF NOT EXISTS suppliers (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL,
	code_hash   TEXT NOT NULL UNIQUE, -- SHA-256 of the master code: the code itself is not kept
	created     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
	id          TEXT PRIMARY KEY,      -- the generated user ID, "U-XXXX-XXXX"
	supplier_id INTEGER NOT NULL REFERENCES suppliers(id),
	national_id TEXT NOT NULL,
	name        TEXT NOT NULL,
	email       TEXT NOT NULL,
	phone       TEXT NOT NULL,
	admin       INTEGER NOT NULL DEFAULT 0,
	created     INTEGER NOT NULL,
	UNIQUE (supplier_id, national_id)
);
-- One administrator per supplier: the first user who asks to be.
CREATE UNIQUE INDEX IF NOT EXISTS one_admin ON users(supplier_id) WHERE admin = 1;
CREATE TABLE IF NOT EXISTS certificates (
	id          INTEGER PRIMARY KEY,
	user_id     TEXT NOT NULL REFERENCES users(id),
	fingerprint TEXT NOT NULL UNIQUE,  -- SHA-256 of the DER
	der         BLOB NOT NULL,
	holder      TEXT NOT NULL,         -- the certificate's subject common name
	member      TEXT NOT NULL,         -- its serialNumber (member number)
	issuer      TEXT NOT NULL,
	not_after   INTEGER NOT NULL,
	registered  INTEGER NOT NULL,
	revoked     INTEGER,               -- when the supplier's administrator revoked it
	revoked_by  TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
	id            TEXT PRIMARY KEY,    -- SHA-256 of the cookie: the cookie itself is not kept
	created       INTEGER NOT NULL,
	csrf          TEXT NOT NULL,
	supplier_id   INTEGER,             -- after a master code
	pending       TEXT NOT NULL DEFAULT '', -- the registration form, or the user ID an additional certificate goes to
	user_id       TEXT,                -- signed in as
	cert_id       INTEGER,             -- with this certificate
	challenge     TEXT NOT NULL DEFAULT '',
	challenge_for TEXT NOT NULL DEFAULT '', -- "register", "add", "signin"
	challenge_at  INTEGER NOT NULL DEFAULT 0,
	challenge_used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS users_supplier ON users(supplier_id);
CREATE INDEX IF NOT EXISTS certificates_user ON certificates(user_id);
