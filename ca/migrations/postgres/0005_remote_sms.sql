-- One-time passwords by SMS (ca/sms.go), where the CA has a sender: the
-- holder's mobile number, given at enrolment, and the last code sent,
-- sealed under remote.key like the TOTP key, good once until it expires.
ALTER TABLE remote_accounts ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE remote_accounts ADD COLUMN sms_code TEXT;
ALTER TABLE remote_accounts ADD COLUMN sms_expires BIGINT NOT NULL DEFAULT 0;
