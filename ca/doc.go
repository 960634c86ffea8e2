// Package ca is the server side of Paraphe: the reference certification
// authority that enrols holders (identity plus secret questions), hands out
// reference codes, checks answers, and issues signing certificates over EST
// (RFC 7030) to keys generated on the holder's machine.
//
// State lives in a folder: the CA certificates and keys, the TLS identity of
// the server, config.json, and an SQLite database (WAL) in which consuming a
// reference and recording the certificate issued for it are one transaction:
// a crash or a concurrent request can neither issue twice nor lose an issued
// certificate.
//
// Secrets (answers, authorization codes, private keys) are never logged.
// Answers are stored as Argon2id hashes.
package ca
