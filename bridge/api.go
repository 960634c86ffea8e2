package bridge

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pkcs"
)

// Error codes the API answers with, in {"error": CODE, "message": …}; a
// page says each in its own words (docs/bridge.md).
const (
	CodeBadRequest         = "bad_request"         // 400: not JSON, a field missing or wrong
	CodeNoCertificate      = "no_certificate"      // 404: no valid certificate on this computer
	CodeUnknownCertificate = "unknown_certificate" // 404: no certificate with the ID the page gave
	CodeBusy               = "busy"                // 409: the holder is answering another question
	CodeRateLimited        = "rate_limited"        // 429: this site asked too often (Retry-After)
	CodeRefused            = "refused"             // 403: the holder said no, or did not answer
	CodeUnavailable        = "unavailable"         // 503: no one to ask (paraphe bridge without a terminal)
	CodeWrongPIN           = "wrong_pin"           // 403: the PIN was wrong ("tries_left" when known)
	CodeLocked             = "locked"              // 403: the key's PIN is blocked
	CodeKeyError           = "key_error"           // 500: the key could not sign (token removed…)
)

// MaxDocumentName is the longest document name a page may have shown.
const MaxDocumentName = 120

// maxBody caps a request's body.
const maxBody = 16 << 10

// apiError is an answer other than success.
type apiError struct {
	status    int
	code      string
	message   string
	triesLeft int // -1 when unknown
	retry     time.Duration
}

type errorBody struct {
	Error     string `json:"error"`
	Message   string `json:"message"`
	TriesLeft *int   `json:"tries_left,omitempty"`
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	s.log("answered", "origin", r.Header.Get("Origin"), "path", r.URL.Path, "outcome", e.code)
	body := errorBody{Error: e.code, Message: e.message}
	if e.triesLeft >= 0 {
		body.TriesLeft = &e.triesLeft
	}
	if e.retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.retry.Seconds()+0.999)))
	}
	writeJSON(w, e.status, body)
}

func (s *Server) ok(w http.ResponseWriter, r *http.Request, v any) {
	s.log("answered", "origin", r.Header.Get("Origin"), "path", r.URL.Path, "outcome", "ok")
	writeJSON(w, http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func badRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeBadRequest, message: msg, triesLeft: -1}
}

// decode reads a request's JSON body into v.
func decode(r *http.Request, v any) *apiError {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return badRequest("the body is JSON (Content-Type: application/json)")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("the body is not the JSON expected: " + err.Error())
	}
	return nil
}

// Status is GET /v1/status: the bridge answers this origin.
type Status struct {
	App     string `json:"app"`
	Version string `json:"version"`
	API     string `json:"api"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	s.ok(w, r, Status{App: "paraphe", Version: s.Version, API: "v1"})
}

// Certificate is a certificate as a page sees it.
type Certificate struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Title        string    `json:"title,omitempty"`
	MemberNumber string    `json:"member_number,omitempty"`
	Organization string    `json:"organization,omitempty"`
	Email        string    `json:"email,omitempty"`
	Issuer       string    `json:"issuer"`
	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
	Store        string    `json:"store"`
	// Certificate is the certificate itself, base64 DER: public.
	Certificate string `json:"certificate"`
}

func describe(c local.Cert) Certificate {
	x := c.Certificate()
	h := pkcs.HolderOf(x)
	return Certificate{ID: c.ID, Name: h.Name, Title: h.Title, MemberNumber: h.MemberNumber, Organization: h.Organization,
		Email: h.Email, Issuer: x.Issuer.CommonName, NotBefore: x.NotBefore, NotAfter: x.NotAfter, Store: c.Store.Name(),
		Certificate: base64.StdEncoding.EncodeToString(x.Raw)}
}

// Certificates is POST /v1/certificates's answer.
type Certificates struct {
	Certificates []Certificate `json:"certificates"`
}

func (s *Server) certificates(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if e := decode(r, &req); e != nil {
		s.fail(w, r, e)
		return
	}
	certs, closeStores, e := s.offered("")
	if e != nil {
		s.fail(w, r, e)
		return
	}
	defer closeStores()
	if _, e := s.ask(r, Request{Origin: r.Header.Get("Origin"), Action: ActionCertificates, Certs: certs}); e != nil {
		s.fail(w, r, e)
		return
	}
	out := Certificates{Certificates: []Certificate{}}
	for _, c := range certs {
		out.Certificates = append(out.Certificates, describe(c))
	}
	s.ok(w, r, out)
}

// AuthenticateRequest is POST /v1/authenticate's body.
type AuthenticateRequest struct {
	// Challenge is the portal's nonce (base64 of 32 random bytes or more).
	Challenge string `json:"challenge"`
	// Purpose is "signin" (the default) or "register".
	Purpose string `json:"purpose,omitempty"`
	// Certificate is the ID of the certificate to use; empty lets the
	// holder choose.
	Certificate string `json:"certificate,omitempty"`
}

func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) {
	var req AuthenticateRequest
	if e := decode(r, &req); e != nil {
		s.fail(w, r, e)
		return
	}
	action := ActionSignIn
	switch req.Purpose {
	case "", "signin":
	case "register":
		action = ActionRegister
	default:
		s.fail(w, r, badRequest(`purpose is "signin" or "register"`))
		return
	}
	if err := checkChallenge(req.Challenge); err != nil {
		s.fail(w, r, badRequest(err.Error()))
		return
	}
	origin := r.Header.Get("Origin")
	key, closeStores, e := s.unlock(r, Request{Origin: origin, Action: action}, req.Certificate)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	defer closeStores()
	tok, err := authToken(key, key.Certificate().Raw, origin, req.Challenge, "https://github.com/paraphe/paraphe/releases/tag/v"+strings.TrimPrefix(s.Version, "v"))
	if err != nil {
		s.fail(w, r, keyError(err))
		return
	}
	s.ok(w, r, tok)
}

// SignRequest is POST /v1/sign's body.
type SignRequest struct {
	// Hash is the base64 SHA-256 of what is signed: a PDF's byte ranges
	// (PAdES) or a file (CAdES).
	Hash          string `json:"hash"`
	HashAlgorithm string `json:"hash_algorithm,omitempty"` // "SHA-256", the default and the only one
	// Format is "pades" (no signing time: the PDF's /M says it) or
	// "cades" (with a signing-time attribute).
	Format string `json:"format"`
	// Document is the document's name, shown to the holder.
	Document    string `json:"document"`
	Certificate string `json:"certificate,omitempty"`
}

// Signature is POST /v1/sign's answer.
type Signature struct {
	// Signature is the detached CMS SignedData, base64 DER, with the
	// signer's chain: ETSI's baseline B-B for PAdES or CAdES.
	Signature   string `json:"signature"`
	Format      string `json:"format"`
	Certificate string `json:"certificate"`
}

func (s *Server) sign(w http.ResponseWriter, r *http.Request) {
	var req SignRequest
	if e := decode(r, &req); e != nil {
		s.fail(w, r, e)
		return
	}
	digest, e := checkSign(&req)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	key, closeStores, e := s.unlock(r, Request{Origin: r.Header.Get("Origin"), Action: ActionSign, Document: req.Document}, req.Certificate)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	defer closeStores()
	b := &cms.Builder{Key: key, Chain: key.Chain}
	if req.Format == "cades" {
		b.SigningTime = s.now()
	}
	sig, err := b.Sign(digest)
	var der []byte
	if err == nil {
		der, err = b.Detached(sig, nil)
	}
	if err != nil {
		s.fail(w, r, keyError(err))
		return
	}
	s.ok(w, r, Signature{Signature: base64.StdEncoding.EncodeToString(der), Format: req.Format,
		Certificate: base64.StdEncoding.EncodeToString(key.Certificate().Raw)})
}

// checkSign checks a sign request, cleans its document name and returns
// the digest.
func checkSign(req *SignRequest) ([]byte, *apiError) {
	if req.HashAlgorithm != "" && req.HashAlgorithm != "SHA-256" {
		return nil, badRequest(`hash_algorithm is "SHA-256"`)
	}
	if req.Format != "pades" && req.Format != "cades" {
		return nil, badRequest(`format is "pades" or "cades"`)
	}
	digest, err := base64.StdEncoding.DecodeString(req.Hash)
	if err != nil || len(digest) != sha256.Size {
		return nil, badRequest("hash is the base64 of a SHA-256 digest (32 bytes)")
	}
	req.Document = cleanName(req.Document)
	if req.Document == "" {
		return nil, badRequest("document names the document for the holder")
	}
	return digest, nil
}

// cleanName keeps what a dialog may show of a page's words: no control or
// direction characters (which could make a name read as another), spaces
// folded, at most MaxDocumentName characters.
func cleanName(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), unicode.In(r, unicode.Cf):
			return -1
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > MaxDocumentName {
		s = string([]rune(s)[:MaxDocumentName-1]) + "…"
	}
	return s
}

// offered returns the valid certificates of this computer, or the one
// named id, and a function closing their stores (a token logs out).
func (s *Server) offered(id string) ([]local.Cert, func(), *apiError) {
	all, err := local.Certs(s.Policy)
	if err != nil {
		return nil, nil, keyError(err)
	}
	closeStores := func() {
		seen := map[pkcs.Store]bool{}
		for _, c := range all {
			if !seen[c.Store] {
				seen[c.Store] = true
				c.Store.Close()
			}
		}
	}
	now := s.now()
	var out []local.Cert
	for _, c := range all {
		x := c.Certificate()
		if now.Before(x.NotBefore) || now.After(x.NotAfter) || (id != "" && c.ID != id) {
			continue
		}
		out = append(out, c)
	}
	switch {
	case len(out) > 0:
		return out, closeStores, nil
	case id != "":
		closeStores()
		return nil, nil, &apiError{status: http.StatusNotFound, code: CodeUnknownCertificate, message: "no valid certificate " + id + " on this computer", triesLeft: -1}
	}
	closeStores()
	return nil, nil, &apiError{status: http.StatusNotFound, code: CodeNoCertificate, message: "no valid certificate on this computer", triesLeft: -1}
}

// ask puts req to the holder, within the rate limit, one question at a
// time.
func (s *Server) ask(r *http.Request, req Request) (Answer, *apiError) {
	refused := &apiError{status: http.StatusForbidden, code: CodeRefused, message: "the holder refused", triesLeft: -1}
	if s.Consent == nil {
		return Answer{}, &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, message: "no one can be asked on this computer", triesLeft: -1}
	}
	done, retry, err := s.limit.take(req.Origin, s.now())
	switch {
	case errors.Is(err, errTooMany):
		return Answer{}, &apiError{status: http.StatusTooManyRequests, code: CodeRateLimited, message: fmt.Sprintf("this site asked %d times in a minute", AsksPerWindow), triesLeft: -1, retry: retry}
	case errors.Is(err, errBusy):
		return Answer{}, &apiError{status: http.StatusConflict, code: CodeBusy, message: "the holder is answering another question", triesLeft: -1}
	}
	defer done()
	s.log("asking", "origin", req.Origin, "action", string(req.Action), "document", req.Document, "certificates", len(req.Certs))
	a, err := s.Consent.Consent(r.Context(), req)
	switch {
	case errors.Is(err, ErrNoConsent):
		return Answer{}, &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, message: "no one can be asked on this computer", triesLeft: -1}
	case err != nil || !a.Allow || r.Context().Err() != nil:
		clear(a.PIN) // the page went away meanwhile: nothing is signed
		return Answer{}, refused
	}
	return a, nil
}

// unlock asks the holder for req with the certificates offered (id's, or
// all) and opens the key chosen with the PIN typed.
func (s *Server) unlock(r *http.Request, req Request, id string) (*pkcs.Key, func(), *apiError) {
	certs, closeStores, e := s.offered(id)
	if e != nil {
		return nil, nil, e
	}
	req.Certs = certs
	a, e := s.ask(r, req)
	if e != nil {
		closeStores()
		return nil, nil, e
	}
	defer clear(a.PIN)
	for _, c := range certs {
		if c.ID != a.Cert {
			continue
		}
		key, err := c.Store.Open(c.ID, a.PIN)
		if err != nil {
			closeStores()
			return nil, nil, keyError(err)
		}
		return key, closeStores, nil
	}
	closeStores()
	return nil, nil, &apiError{status: http.StatusForbidden, code: CodeRefused, message: "no certificate was chosen", triesLeft: -1}
}

// keyError says why a key did not open or sign.
func keyError(err error) *apiError {
	var wp *pkcs.WrongPINError
	switch {
	case errors.Is(err, pkcs.ErrLocked):
		return &apiError{status: http.StatusForbidden, code: CodeLocked, message: "the PIN is blocked", triesLeft: 0}
	case errors.As(err, &wp):
		return &apiError{status: http.StatusForbidden, code: CodeWrongPIN, message: "wrong PIN", triesLeft: wp.TriesLeft}
	case errors.Is(err, pkcs.ErrWrongPIN):
		return &apiError{status: http.StatusForbidden, code: CodeWrongPIN, message: "wrong PIN", triesLeft: -1}
	}
	return &apiError{status: http.StatusInternalServerError, code: CodeKeyError, message: "the key could not sign: " + err.Error(), triesLeft: -1}
}
