-- The exchange's first schema (SQLite). A database made before migrations
-- were numbered has these tables already (IF NOT EXISTS) and may lack
-- users.certificate, which the store adds (legacyColumns).
CREATE TABLE IF NOT EXISTS users (
	id           INTEGER PRIMARY KEY,
	code         TEXT NOT NULL UNIQUE,          -- the user code they sign in with
	email        TEXT NOT NULL UNIQUE,          -- lower case
	name         TEXT NOT NULL,
	kind         TEXT NOT NULL,                 -- firm or client
	lang         TEXT NOT NULL,
	manager_id   INTEGER REFERENCES users(id),  -- a client's account manager
	password     TEXT NOT NULL DEFAULT '',      -- Argon2id PHC string; empty until set
	totp         BLOB,                          -- the TOTP secret, wrapped by the master key
	totp_step    INTEGER NOT NULL DEFAULT 0,    -- the last time step accepted (no replay)
	failures     INTEGER NOT NULL DEFAULT 0,    -- failed sign-ins in a row, and those being checked
	locked_until INTEGER NOT NULL DEFAULT 0,
	created      INTEGER NOT NULL,
	certificate  BLOB                           -- their encryption certificate chain (DER, leaf first), for end-to-end parcels
);
CREATE TABLE IF NOT EXISTS invitations (
	hash    TEXT PRIMARY KEY,                   -- SHA-256 of the link's token
	user_id INTEGER NOT NULL REFERENCES users(id),
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL,
	used    INTEGER                             -- when it set the password; or superseded
);
CREATE TABLE IF NOT EXISTS sessions (
	hash    TEXT PRIMARY KEY,                   -- SHA-256 of the cookie's token
	user_id INTEGER NOT NULL REFERENCES users(id),
	stage   TEXT NOT NULL,                      -- full, or totp: the password is right, the code is due
	created INTEGER NOT NULL,
	seen    INTEGER NOT NULL,
	api     INTEGER NOT NULL DEFAULT 0          -- a bearer token of the API, not a cookie
);
CREATE TABLE IF NOT EXISTS parcels (
	id           TEXT PRIMARY KEY,
	sender_id    INTEGER NOT NULL REFERENCES users(id),
	recipient_id INTEGER NOT NULL REFERENCES users(id),
	title        TEXT NOT NULL,
	note         BLOB,                          -- sealed with the parcel's key; NULL once destroyed
	key          BLOB,                          -- the parcel's key, wrapped; NULL once destroyed
	created      INTEGER NOT NULL,
	expires      INTEGER NOT NULL,
	opened       INTEGER,
	status       TEXT NOT NULL,                 -- sent, opened, expired, withdrawn
	destroyed    INTEGER                        -- when its keys were forgotten
);
CREATE TABLE IF NOT EXISTS documents (
	id        TEXT PRIMARY KEY,
	parcel_id TEXT NOT NULL REFERENCES parcels(id),
	idx       INTEGER NOT NULL,
	name      TEXT NOT NULL,
	size      INTEGER NOT NULL,
	type      TEXT NOT NULL,
	sha256    TEXT NOT NULL,                    -- of the plaintext, for the slip
	blob      TEXT,                             -- the sealed file's name; NULL once removed
	key       BLOB,                             -- the document's key, wrapped; NULL once destroyed
	verdict   TEXT NOT NULL DEFAULT ''          -- the signatures' verdict in words (JSON), for PDFs
);
CREATE TABLE IF NOT EXISTS events (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	user_id     INTEGER REFERENCES users(id),
	parcel_id   TEXT REFERENCES parcels(id),
	document_id TEXT,
	action      TEXT NOT NULL,
	remote      TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS addresses (
	remote       TEXT PRIMARY KEY,              -- a client's IP address
	failures     INTEGER NOT NULL DEFAULT 0,    -- failed sign-ins from it in the current window, and those being checked
	locked_until INTEGER NOT NULL DEFAULT 0,
	last         INTEGER NOT NULL               -- the last attempt counted
);
CREATE INDEX IF NOT EXISTS parcels_recipient ON parcels(recipient_id);
CREATE INDEX IF NOT EXISTS parcels_sender ON parcels(sender_id);
CREATE INDEX IF NOT EXISTS parcels_due ON parcels(destroyed, expires);
CREATE INDEX IF NOT EXISTS documents_parcel ON documents(parcel_id);
CREATE INDEX IF NOT EXISTS events_parcel ON events(parcel_id);
CREATE INDEX IF NOT EXISTS invitations_user ON invitations(user_id);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
