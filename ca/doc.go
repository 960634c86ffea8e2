// Package ca is the server side of Paraphe: the reference certification
// authority that enrols holders (identity plus secret questions), hands out
// reference codes, checks answers, and issues signing certificates over EST
// (RFC 7030) to keys generated on the holder's machine.
//
// State lives in a folder: the CA certificates, the issuing CA's and the
// services' keys (or, with KeyStorePKCS11, their certificates only: the
// keys are on a PKCS#11 token, see keys.go), the TLS identity of the
// server, config.json, the root's CRL signed ahead, the OCSP responder's
// certificate and officers.key, which seals the registration officers'
// second factors (officers.go); and in a database, an SQLite file (WAL) in
// the folder or a PostgreSQL database that several servers share (see
// DatabaseConfig), in which consuming a reference and recording the
// certificate issued for it are one transaction: a crash or a concurrent
// request, on this server or another, can neither issue twice nor lose an
// issued certificate. The database also keeps the audit trail, a
// hash-chained record of every event written in the event's own
// transaction (see VerifyAudit), and the policy on renewals
// (renewals.go). The root's key lives in a folder of its own, kept
// offline, which the server never reads (see Root).
//
// Secrets (answers, authorization codes, private keys, officers'
// passwords and codes) are never logged. Answers and passwords are stored
// as Argon2id hashes.
package ca
