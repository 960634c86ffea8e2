-- Registration officers (ca/officers.go), their sessions, the renewal
-- requests they approve or refuse, and the CA's policy on renewals.
CREATE TABLE officers (
	name      TEXT PRIMARY KEY,
	password  TEXT NOT NULL,              -- Argon2id, PHC string
	totp      TEXT NOT NULL,              -- the TOTP key, sealed under officers.key
	totp_step INTEGER NOT NULL DEFAULT 0, -- the last time step accepted: a code is good once
	failures  INTEGER NOT NULL DEFAULT 0, -- logins failed since the last right one, and those being checked
	checking  INTEGER NOT NULL DEFAULT 0, -- logins being checked now
	checking_at INTEGER NOT NULL DEFAULT 0, -- when the last of those began
	created   INTEGER NOT NULL,
	disabled  INTEGER,                    -- when the operator disabled the account
	last_login INTEGER
);
-- Sessions of the officers' HTTP API, by the SHA-256 of their token.
CREATE TABLE officer_sessions (
	hash    TEXT PRIMARY KEY,
	officer TEXT NOT NULL REFERENCES officers(name),
	expires INTEGER NOT NULL
);
CREATE INDEX officer_sessions_officer ON officer_sessions(officer);
-- Renewal requests under approval: one per certificate, ever.
CREATE TABLE renewal_requests (
	id        INTEGER PRIMARY KEY,
	serial    TEXT NOT NULL UNIQUE REFERENCES certs(serial), -- the certificate to renew
	holder_id INTEGER NOT NULL REFERENCES holders(id),
	state     TEXT NOT NULL,              -- awaiting_approval, approved, refused, renewed
	created   INTEGER NOT NULL,
	confirmed INTEGER NOT NULL DEFAULT 0, -- the holder confirmed the details when asking
	decided   INTEGER,
	officer   TEXT REFERENCES officers(name),
	reason    TEXT,                       -- a refusal's, shown to the holder
	successor TEXT UNIQUE REFERENCES certs(serial)
);
CREATE INDEX renewal_requests_state ON renewal_requests(state);
-- The CA's policy, one row, shared by every server of the database.
CREATE TABLE ca_policy (
	id               INTEGER PRIMARY KEY CHECK (id = 1),
	renewal_approval INTEGER NOT NULL DEFAULT 0 -- renewals wait for an officer's approval
);
INSERT INTO ca_policy(id, renewal_approval) VALUES (1, 0);
