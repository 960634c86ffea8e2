// Package protocol holds what the Paraphe client and the paraphe-ca server
// must agree on byte for byte: the wire types of the activation API, the
// reference-code format, the normalisation of secret answers, the EST
// enrolment password, and the PKCS#7 certs-only encoding EST uses.
//
// It has no dependencies on the rest of Paraphe so that both sides
// (package activation and package ca) import it without importing each other.
package protocol
