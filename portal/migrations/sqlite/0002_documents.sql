-- Documents a user signs on the portal (a declaration): the PDF the portal
-- wrote, its SHA-256, and once signed the detached CMS (CAdES) that
-- signs it, with the registered certificate that made it.
CREATE TABLE documents (
	id          INTEGER PRIMARY KEY,
	user_id     TEXT NOT NULL REFERENCES users(id),
	name        TEXT NOT NULL,         -- the file's name, shown to the holder by Paraphe
	title       TEXT NOT NULL,
	content     BLOB NOT NULL,
	sha256      TEXT NOT NULL,         -- hex, of content
	created     INTEGER NOT NULL,
	signature   BLOB,                  -- the detached CMS, once accepted
	signed      INTEGER,               -- when the portal accepted it
	cert_id     INTEGER REFERENCES certificates(id),
	signer      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX documents_user ON documents(user_id);
