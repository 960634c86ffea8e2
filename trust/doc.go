// Package trust produces the trust anchors ([pdf.Anchor]) a professional's
// computer verifies signatures with, from every source it may trust:
//
//   - certificate files the machine policy lists (LoadFiles): PEM files,
//     DER certificates, PKCS#7 certs-only bundles (.p7b, .p7c, in DER, BER
//     or PEM; an export of Adobe's AATL, of a Windows or macOS store), or
//     folders of such files;
//   - the user's own trusted certificates (Store), kept one file each in
//     the user's Paraphe folder, when the policy allows it;
//   - the EU trusted lists (TrustedLists): the List of Trusted Lists
//     (LOTL) and the national lists it points to, ETSI TS 119 612 v2.
//
// Sources gathers them. The package returns data and typed errors, never
// sentences: the words are the caller's, in the user's language.
//
// # Trusted lists
//
// Update downloads the LOTL with the caller's http.Client (so that its
// proxy settings apply), verifies its enveloped XML signature against the
// pinned certificates (OfficialJournalPins, or the caller's; through the
// pivot LOTLs when TrustedLists.Journal is set), then
// downloads each national list the LOTL points to in XML and verifies it
// against the certificates the LOTL names for that territory. A verified
// list is kept in the cache folder (atomic writes) with the time it was
// fetched; a list older than the one kept (a replay) is refused. Anchors
// reads the cache and verifies every list again: a list whose signature
// fails gives nothing.
//
// A list's signature is accepted only when all of these hold: exactly one
// ds:Signature, child of the list's root; its SignedInfo signed by an
// allowed certificate valid at the time of checking (RSA PKCS#1 v1.5,
// RSA-PSS, ECDSA in XMLDSig's r‖s or DER, Ed25519; SHA-2 or SHA-3; SHA-1
// is refused); one reference to the whole document (URI "" or the root's
// Id) with the enveloped-signature transform followed by a
// canonicalization (C14N 1.0, 1.1 or exclusive) whose digest holds; every
// other reference one to an element of the signature (the XAdES
// SignedProperties) whose digest holds. Only the octets the document
// reference covers are parsed.
// The XAdES signing-certificate property is not checked: the signer is
// whichever allowed certificate's key verifies, which pinning decides.
//
// Services become anchors by type: CA/QC and CA/PKC for signatures,
// TSA/QTST and TSA (and TS 119 612 v1's TSA/TSS-QC and
// TSA/TSS-AdESQCandQES, found in histories) for time-stamps. An anchor's
// periods are the times its status history trusted it: "granted", or
// before eIDAS the statuses the migration to it mapped to "granted"
// (undersupervision, supervisionincessation, accredited), or, for a
// service that is not qualified, "recognisedatnationallevel" and
// "setbynationallaw". Every other status ("withdrawn" and the older
// ceased, revoked and deprecated ones) ends a period. A CA/QC period is
// Qualified; a CA/QC whose additional service information says its
// certificates are for web sites only gives no period for signatures. A
// service never trusted gives no anchor.
//
// A list past its NextUpdate is still used, as DSS does by default, and
// reported stale (ListStatus.Stale, ErrStale): a member state publishing
// late, or a computer offline for a while, must not make every signature
// of a country untrusted.
//
// When TrustedLists.Journal names the Official Journal notice of the pins,
// the LOTL's pivots are followed from those pins to the certificates that
// sign the LOTL today (pivots.go says how, and what it costs).
//
// Certificates are read with pdf.ParseCertificate, so keys on Brainpool
// curves (German and Austrian services) are read too, though crypto/x509
// refuses them; certificates that cannot be parsed at all (some malformed
// old ones) are left out and reported as *ServiceError.
//
// # Sizes and XML
//
// Certificate files are capped at MaxFileSize, lists at
// TrustedLists.MaxSize (DefaultMaxListSize). A list is never held as a
// tree: it is read in passes over its bytes with encoding/xml, one to find
// its root and signature, one to canonicalize the document as its
// reference says, streaming into the digest, one to decode it one trust
// service provider at a time. Only the signature, a few KiB, becomes a
// tree, for goxmldsig (github.com/russellhaering/goxmldsig) to
// canonicalize its SignedInfo and SignedProperties. The canonical forms
// are checked in the tests against the JDK's XML signature
// implementation. encoding/xml fetches no external entity, and a list
// with a DTD is refused. One divergence from XML parsers is inherited
// from encoding/xml: it does not normalize a tab or line break written
// as such inside an attribute value (XML 1.0 §3.3.3), so a list with one
// would fail to verify (refused, never wrongly accepted); trusted lists
// have none.
package trust
