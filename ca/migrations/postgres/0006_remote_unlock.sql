-- The CA operator's unlock of a remote account (ca/remote_operator.go),
-- proven by the holder's emergency code: its wrong tries, and whether the
-- password is one the operator set, which signs in nowhere until the
-- holder changes it.
ALTER TABLE remote_accounts ADD COLUMN emergency_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE remote_accounts ADD COLUMN password_temporary INTEGER NOT NULL DEFAULT 0;
