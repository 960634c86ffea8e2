package portal

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/pdf"
)

// Signing a document on the portal: a signed-in user signs the supplier's
// declaration. The portal writes the declaration as a PDF and keeps it;
// the page has Paraphe sign its SHA-256 (the bridge's /v1/sign, format
// "cades": a detached CMS with a signing time) and hands the signature
// back; the portal accepts it only when, as any relying party should
// check:
//
//  1. it is a CMS SignedData, detached, of one signer;
//  2. its message digest is the digest of the document the portal wrote
//     and kept (not of what the page says), and the signature value
//     verifies over the signed attributes with the certificate's key;
//  3. the certificate chains to the CAs the portal trusts and is not
//     revoked, asked online (pdf.VerifySignedData, the suite's verifier);
//  4. the certificate is registered on the portal, not revoked there, and
//     acts for the signed-in user;
//  5. the document has no signature yet (one is kept, once).
//
// The user then downloads the PDF and its .p7s: any CAdES verifier
// (openssl cms -verify, the suite's paraphe verify) checks the pair.

// Why a document's signature is refused.
var (
	ErrSignatureFormat   = errors.New("portal: not a detached CMS signature of one signer")
	ErrSignatureDocument = errors.New("portal: the signature is not over this document")
	ErrSignatureInvalid  = errors.New("portal: the signature does not verify")
	ErrCertNotYours      = errors.New("portal: the certificate is registered for another user")
)

// verifyDocumentSignature checks der, a signature of d, and returns the
// verifier's judgment of its signer.
func (p *Portal) verifyDocumentSignature(ctx context.Context, d Document, der []byte) (*pdf.SignatureReport, error) {
	sd, err := cms.Parse(der)
	if err != nil || sd.Content != nil || len(sd.Signers) != 1 {
		return nil, ErrSignatureFormat
	}
	rep, err := pdf.VerifySignedData(ctx, sd, func(h cms.Hash) ([]byte, error) {
		w := h.New()
		w.Write(d.Content)
		return w.Sum(nil), nil
	}, d.Name, p.Trust)
	if err != nil || len(rep.Signatures) != 1 {
		return nil, ErrSignatureFormat
	}
	s := &rep.Signatures[0]
	switch {
	case s.SubIndication == pdf.HashFailure:
		return s, ErrSignatureDocument
	case !s.Intact || s.Certificate == nil:
		return s, ErrSignatureInvalid
	case !s.Trusted:
		return s, &TokenError{Err: ErrCertUntrusted}
	case s.Revocation == pdf.RevocationRevoked:
		return s, ErrCertRevokedCA
	case p.Trust.Online && s.Revocation != pdf.RevocationGood:
		return s, ErrRevocation
	case s.Indication != pdf.TotalPassed:
		return s, fmt.Errorf("%w (%s %s)", ErrSignatureInvalid, s.Indication, s.SubIndication)
	}
	return s, nil
}

// declarationParts are the declaration's words in pr's language: what
// the user declares, then who declares it for which supplier, when, and
// the document's reference once it has one.
func declarationParts(pr *i18n.Printer, sp Supplier, u User, ref string, day time.Time) []pdf.LetterPart {
	parts := []pdf.LetterPart{
		{Text: pr.T("portal.declaration.text1", "Supplier", sp.Name)},
		{Text: pr.T("portal.declaration.text2")},
		{Label: pr.T("portal.declaration.supplier"), Text: sp.Name},
		{Label: pr.T("portal.declaration.declarant"), Text: u.Name},
		{Label: pr.T("portal.declaration.national_id"), Text: u.NationalID},
		{Label: pr.T("portal.declaration.user_id"), Text: u.ID},
		{Label: pr.T("portal.declaration.date"), Text: pr.Date(day)},
	}
	if ref != "" {
		parts = append(parts, pdf.LetterPart{Label: pr.T("portal.declaration.reference"), Text: ref})
	}
	return parts
}

func documentRef(id int64) string { return fmt.Sprintf("D-%06d", id) }

// signedIn is the session's user and supplier, or false (and the browser
// sent to sign in).
func (p *Portal) signedIn(w http.ResponseWriter, r *http.Request, se *session) (User, Supplier, bool) {
	u, err := p.Store.User(r.Context(), se.userID)
	if se.userID == "" || err != nil {
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
		} else {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "signed_out"})
		}
		return u, Supplier{}, false
	}
	sp, _ := p.Store.supplier(r.Context(), u.SupplierID)
	return u, sp, true
}

// declarationPage shows the declaration and signs it through Paraphe.
func (p *Portal) declarationPage(w http.ResponseWriter, r *http.Request, se *session) {
	u, sp, ok := p.signedIn(w, r, se)
	if !ok {
		return
	}
	d := p.newPage(r, se, "portal.declaration.title")
	d.Supplier = &sp
	d.Parts = declarationParts(d.p, sp, u, "", p.now())
	msgs := map[string]string{}
	for _, c := range bridgeCodes {
		msgs[c] = d.T("portal.bridge." + c)
	}
	msgs["wrong_pin"] = d.T("portal.bridge.wrong_pin", "Left", "{n}")
	msgs["asking"] = d.T("portal.declaration.asking")
	cfg, _ := json.Marshal(map[string]any{"csrf": se.csrf, "bridge": p.BridgeURL, "messages": msgs})
	d.Config = template.JS(cfg)
	p.render(w, "declaration", d, http.StatusOK)
}

// newDeclaration is POST /api/document: the declaration written as a PDF
// in the page's language and kept; the page gets its number, name and
// SHA-256 to have Paraphe sign.
func (p *Portal) newDeclaration(w http.ResponseWriter, r *http.Request, se *session) {
	u, sp, ok := p.signedIn(w, r, se)
	if !ok {
		return
	}
	pr := i18n.New(lang(r))
	title := pr.T("portal.declaration.title")
	doc, err := p.Store.NewDocument(r.Context(), u.ID, title, func(id int64) (string, []byte, error) {
		var b bytes.Buffer
		err := pdf.WriteLetter(&b, pdf.Letter{Title: title, Lang: lang(r), Parts: declarationParts(pr, sp, u, documentRef(id), p.now())})
		return pr.T("portal.declaration.file", "Ref", documentRef(id)), b.Bytes(), err
	}, p.now())
	if err != nil {
		p.log("document", "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "other", "message": pr.T("portal.err.other")})
		return
	}
	p.log("document prepared", "document", doc.ID, "user", u.ID)
	writeJSON(w, http.StatusOK, map[string]any{"id": doc.ID, "name": doc.Name, "hash": base64.StdEncoding.EncodeToString(doc.SHA256)})
}

// documentSignature is POST /api/document/{id}/signature {"signature":
// base64 DER}: the signature verified, then kept.
func (p *Portal) documentSignature(w http.ResponseWriter, r *http.Request, se *session) {
	u, _, ok := p.signedIn(w, r, se)
	if !ok {
		return
	}
	pr := i18n.New(lang(r))
	fail := func(status int, err error) {
		code := errCode(err)
		p.log("signature refused", "reason", code, "error", err.Error(), "user", u.ID)
		writeJSON(w, status, map[string]string{"error": code, "message": pr.T("portal.err." + code)})
	}
	var req struct {
		Signature string `json:"signature"`
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	doc, err := p.Store.Document(r.Context(), id)
	if err != nil || doc.UserID != u.ID {
		fail(http.StatusNotFound, ErrDocumentUnknown)
		return
	}
	if doc.Signature != nil {
		fail(http.StatusConflict, ErrDocumentSigned)
		return
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 256<<10)).Decode(&req); err != nil {
		fail(http.StatusBadRequest, ErrSignatureFormat)
		return
	}
	der, err := base64.StdEncoding.DecodeString(req.Signature)
	if err != nil {
		fail(http.StatusBadRequest, ErrSignatureFormat)
		return
	}
	rep, err := p.verifyDocumentSignature(r.Context(), doc, der)
	var reg RegisteredCert
	if err == nil {
		reg, err = p.signerFor(r.Context(), rep.Certificate, u)
	}
	if err == nil {
		err = p.Store.SignDocument(r.Context(), doc.ID, u.ID, der, reg.ID, rep.Certificate.Subject.CommonName, p.now())
	}
	if err != nil {
		fail(http.StatusForbidden, err)
		return
	}
	p.log("document signed", "document", doc.ID, "user", u.ID, "holder", rep.Certificate.Subject.CommonName)
	writeJSON(w, http.StatusOK, map[string]string{"next": "/documents/" + strconv.FormatInt(doc.ID, 10)})
}

// signerFor is the registered certificate cert, which must act for user.
func (p *Portal) signerFor(ctx context.Context, cert *x509.Certificate, u User) (RegisteredCert, error) {
	reg, owner, err := p.Store.CertificateFor(ctx, cert)
	if err != nil {
		return reg, err
	}
	if owner.ID != u.ID {
		return reg, ErrCertNotYours
	}
	return reg, nil
}

// document is the document of the request's {id} the signed-in user may
// see: theirs, or, for the supplier's administrator, any of the
// supplier's users'.
func (p *Portal) document(w http.ResponseWriter, r *http.Request, se *session) (Document, bool) {
	u, _, ok := p.signedIn(w, r, se)
	if !ok {
		return Document{}, false
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	doc, err := p.Store.Document(r.Context(), id)
	if err == nil && doc.UserID != u.ID {
		owner, uerr := p.Store.User(r.Context(), doc.UserID)
		if uerr != nil || !u.Admin || owner.SupplierID != u.SupplierID {
			err = ErrDocumentUnknown
		}
	}
	if err != nil {
		http.NotFound(w, r)
		return doc, false
	}
	return doc, true
}

// documentPage shows a signed document and offers it and its signature.
func (p *Portal) documentPage(w http.ResponseWriter, r *http.Request, se *session) {
	doc, ok := p.document(w, r, se)
	if !ok {
		return
	}
	if doc.Signature == nil {
		http.Redirect(w, r, "/declaration", http.StatusSeeOther)
		return
	}
	d := p.newPage(r, se, "portal.document.title")
	d.Doc = &doc
	d.DocRef, d.DocHash = documentRef(doc.ID), hex.EncodeToString(doc.SHA256)
	p.render(w, "document", d, http.StatusOK)
}

// documentFile is the document (GET /documents/{id}/pdf) or its signature
// (/documents/{id}/p7s), to download.
func (p *Portal) documentFile(w http.ResponseWriter, r *http.Request, se *session) {
	doc, ok := p.document(w, r, se)
	if !ok {
		return
	}
	name, body, typ := doc.Name, doc.Content, "application/pdf"
	switch r.PathValue("file") {
	case "pdf":
	case "p7s":
		name, body, typ = doc.Name+".p7s", doc.Signature, "application/pkcs7-signature"
	default:
		http.NotFound(w, r)
		return
	}
	if body == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
}
