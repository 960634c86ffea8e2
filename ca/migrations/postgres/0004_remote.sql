-- Remote signing (ca/remote.go): holders whose key is on the CA's token
-- and who sign through the CSC API with a PIN and a one-time password.
-- Secrets are Argon2id hashes; the TOTP key is sealed (AES-256-GCM)
-- under remote.key in the CA folder, never stored in clear.
CREATE TABLE remote_accounts (
	user_id           TEXT PRIMARY KEY,
	holder_id         BIGINT NOT NULL UNIQUE REFERENCES holders(id),
	state             TEXT NOT NULL,               -- password, activation, otp, active
	password_hash     TEXT NOT NULL,
	password_failures INTEGER NOT NULL DEFAULT 0,
	pin_hash          TEXT NOT NULL,
	pin_failures      INTEGER NOT NULL DEFAULT 0,  -- wrong PINs in a row
	otp_failures      INTEGER NOT NULL DEFAULT 0,  -- wrong one-time passwords in a row
	puk_hash          TEXT NOT NULL,
	puk_failures      INTEGER NOT NULL DEFAULT 0,
	emergency_hash    TEXT NOT NULL,
	otp_key           TEXT,                        -- sealed TOTP key
	otp_last_step     BIGINT NOT NULL DEFAULT 0,  -- the last TOTP step accepted: none is accepted twice
	checks            INTEGER NOT NULL DEFAULT 0,  -- secrets being checked now: they count as wrong until known
	checks_at         BIGINT NOT NULL DEFAULT 0,  -- when the last of those began
	created           BIGINT NOT NULL
);
-- Bearer (access) and refresh tokens, by their SHA-256.
CREATE TABLE remote_tokens (
	hash    TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES remote_accounts(user_id),
	kind    TEXT NOT NULL, -- access, refresh
	expires BIGINT NOT NULL
);
CREATE INDEX remote_tokens_user ON remote_tokens(user_id);
-- Signature activation data, by their SHA-256: bound to a credential and
-- the hashes listed, good once, for minutes.
CREATE TABLE remote_sads (
	hash       TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES remote_accounts(user_id),
	credential TEXT NOT NULL REFERENCES certs(serial),
	hashes     TEXT NOT NULL, -- base64 hashes, sorted, comma-separated
	expires    BIGINT NOT NULL,
	used       BIGINT          -- when signHash spent it
);
CREATE INDEX remote_sads_user ON remote_sads(user_id);
