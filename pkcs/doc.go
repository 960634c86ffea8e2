// Package pkcs keeps the holder's private keys and hands them out as
// crypto.Signers with their certificate chain attached, whatever holds them:
// the operating system keychain (KeychainStore) or a PKCS#11 token
// (TokenStore; a build without cgo has none and says so with ErrNoPKCS11).
// Callers (activation, pdf, the CLI and the GUI) cannot tell them apart.
//
// Private keys never leave a store in clear: there is no export of a private
// key. Errors a caller branches on are sentinels (ErrWrongPIN, ErrLocked,
// ErrNotFound, ErrKeychainUnavailable, ErrKeyFileStale); WrongPINError adds
// the tries left.
package pkcs
