// Package exchange is the server of Paraphe's secure parcels: a
// professional (or a client, to their account manager) sends a note and
// documents to one recipient, who is invited by e-mail, sets a password,
// signs in (with an optional TOTP second factor), reads the note and views
// or downloads the documents until the parcel expires. Shipping slips (who
// sent what to whom, when, and when it was opened) and an audit of every
// opening and download are kept after the documents are gone.
//
// State lives in a folder: config.json, the SQLite database (or a
// PostgreSQL one the replicas share; every SQL statement is in store.go),
// the master key (or, instead, an AES key on a PKCS#11 token that never
// leaves it: UseToken) and the sealed documents. Each
// document is encrypted with a key of its own, in 64 KiB AES-256-GCM
// segments (package stream), so that a file of any size is sealed and read
// in constant memory; the note is sealed with the parcel's key. The keys
// are stored wrapped by the master key, a file outside the database (so a
// copy of the database alone reads nothing), and the documents folder may
// be a network file system that several replicas share. On expiry (or
// withdrawal) the sweeper forgets the keys and removes the files; the
// slips stay.
//
// The web pages (html/template, in French, English and Italian from the
// catalogue) set sessions in HttpOnly, SameSite=Strict cookies (Secure
// when the public URL is https), put a CSRF token in every form, and send
// a content security policy that allows nothing from elsewhere and no
// framing. A JSON and multipart API (/api/v1/) lets the desktop app send
// with a bearer token obtained with the user's own sign-in. Passwords are
// Argon2id hashes; secrets (passwords, invitation and session tokens, TOTP
// keys) never reach a log.
package exchange
