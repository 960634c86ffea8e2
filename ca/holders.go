package ca

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// Holder is a professional known to the CA, or an organisation (Seal).
type Holder struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Title        string `json:"title"`
	MemberNumber string `json:"member_number"`
	// Organization is the professional order, or a seal's organisation.
	Organization string `json:"organization"`
	Email        string `json:"email"`
	// Seal: the holder is an organisation, not a person, and its
	// certificate an electronic seal's (ETSI EN 319 412-3): it names the
	// organisation, its identifier and its country, and no one in it.
	Seal bool `json:"seal,omitempty"`
	// OrganizationID is a seal's organizationIdentifier (2.5.4.97), as
	// ETSI EN 319 412-1 §5.1.4 writes it: VATIT-01234567890,
	// NTRFR-552100554, LEIXG-…; optional.
	OrganizationID string `json:"organization_identifier,omitempty"`
	// Country is a seal's country (ISO 3166, two letters).
	Country string `json:"country,omitempty"`
	// Phone is a remote holder's mobile number in international form
	// (+393331234567), where one-time passwords go by SMS when the CA has
	// a sender (sms.go); remote holders only, optional.
	Phone     string     `json:"phone,omitempty"`
	Questions []Question `json:"questions,omitempty"`
}

// Question is a secret question with its answer as the holder gave it; the
// answer is hashed on the way in and never stored or returned in clear.
type Question struct {
	Question string `json:"question"`
	Answer   string `json:"answer,omitempty"`
}

// Questions a holder must register.
const (
	minQuestions   = 3
	maxQuestions   = 5
	shownQuestions = 3
	// rightToPass of the shownQuestions answers must be right.
	rightToPass = 2
	authTTL     = 15 * time.Minute
)

// InputError is an enrolment record that cannot be accepted; Field names
// the JSON field.
type InputError struct{ Field, Problem string }

func (e *InputError) Error() string { return fmt.Sprintf("ca: %s: %s", e.Field, e.Problem) }

// orgIDPattern is an organizationIdentifier (ETSI EN 319 412-1 §5.1.4):
// the identity type (VAT, NTR, PSD, LEI, or a country's own as "XX:"), the
// country, a hyphen, the identifier.
var orgIDPattern = regexp.MustCompile(`^(VAT|NTR|PSD|LEI|[A-Z]{2}:[A-Z0-9]+)[A-Z]{2}-[\x21-\x7e]+$`)

func (h *Holder) validate() error {
	if err := h.validateIdentity(); err != nil {
		return err
	}
	if h.Phone != "" {
		return &InputError{"phone", "is for remote holders, whose one-time passwords may go by SMS (paraphe-ca remote enroll)"}
	}
	return h.validateQuestions()
}

// validateIdentity checks who the holder is: what the certificate will
// say of them.
func (h *Holder) validateIdentity() error {
	required := []struct{ name, v string }{
		{"name", h.Name}, {"title", h.Title}, {"member_number", h.MemberNumber}, {"organization", h.Organization},
	}
	if h.Seal {
		for _, f := range required[:3] {
			if f.v != "" {
				return &InputError{f.name, "names a person: a seal names only its organization (leave it out)"}
			}
		}
		required = []struct{ name, v string }{{"organization", h.Organization}, {"country", h.Country}}
		if h.Country = strings.ToUpper(strings.TrimSpace(h.Country)); h.Country != "" && !isCountry(h.Country) {
			return &InputError{"country", "is not a country code of two letters (IT, FR, DE…)"}
		}
		if h.OrganizationID = strings.TrimSpace(h.OrganizationID); h.OrganizationID != "" && !orgIDPattern.MatchString(h.OrganizationID) {
			return &InputError{"organization_identifier", "is not written as ETSI EN 319 412-1 wants it (VATIT-01234567890, NTRFR-552100554…)"}
		}
	} else {
		for _, f := range []struct{ name, v string }{{"organization_identifier", h.OrganizationID}, {"country", h.Country}} {
			if f.v != "" {
				return &InputError{f.name, "is for seals only (enroll --seal)"}
			}
		}
	}
	for _, f := range required {
		if strings.TrimSpace(f.v) == "" {
			return &InputError{f.name, "is required"}
		}
		if len(f.v) > 128 {
			return &InputError{f.name, "is longer than 128 characters"}
		}
	}
	if len(h.OrganizationID) > 128 {
		return &InputError{"organization_identifier", "is longer than 128 characters"}
	}
	if h.Email != "" {
		if a, err := mail.ParseAddress(h.Email); err != nil || a.Address != h.Email {
			return &InputError{"email", "is not an e-mail address"}
		}
	}
	return nil
}

// validateQuestions checks the secret questions: minQuestions to
// maxQuestions, each answered, none twice.
func (h *Holder) validateQuestions() error {
	if n := len(h.Questions); n < minQuestions || n > maxQuestions {
		return &InputError{"questions", fmt.Sprintf("must hold %d to %d questions (has %d)", minQuestions, maxQuestions, n)}
	}
	seen := map[string]bool{}
	for i, q := range h.Questions {
		if strings.TrimSpace(q.Question) == "" {
			return &InputError{fmt.Sprintf("questions[%d].question", i), "is required"}
		}
		if protocol.NormalizeAnswer(q.Answer) == "" {
			return &InputError{fmt.Sprintf("questions[%d].answer", i), "is required"}
		}
		k := protocol.NormalizeAnswer(q.Question)
		if seen[k] {
			return &InputError{fmt.Sprintf("questions[%d].question", i), "repeats another question"}
		}
		seen[k] = true
	}
	return nil
}

func isCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// auditDetails are what the audit trail keeps of an enrolment: who, as
// the certificate will say it, and the reference code, redacted.
func (h *Holder) auditDetails(ref string) map[string]string {
	d := map[string]string{"reference": protocol.RedactRef(ref), "organization": h.Organization}
	if h.Seal {
		d["seal"], d["organization_identifier"], d["country"] = "true", h.OrganizationID, h.Country
	} else {
		d["name"], d["title"], d["member_number"] = h.Name, h.Title, h.MemberNumber
	}
	return d
}

// DisplayName is who the holder is in a word: the person's name, or a
// seal's organisation.
func (h *Holder) DisplayName() string {
	if h.Seal {
		return h.Organization
	}
	return h.Name
}

// Enroll registers a holder and returns their first reference code.
func (a *Authority) Enroll(ctx context.Context, h Holder) (string, error) {
	_, code, err := a.EnrollHolder(ctx, h)
	return code, err
}

// EnrollHolder is Enroll that also returns the holder's id, as List shows it.
func (a *Authority) EnrollHolder(ctx context.Context, h Holder) (id int64, ref string, err error) {
	if err := h.validate(); err != nil {
		return 0, "", err
	}
	hashes := make([]string, len(h.Questions))
	for i, q := range h.Questions {
		hashes[i] = hashAnswer(q.Answer)
	}
	err = a.db.tx(ctx, func(tx *dbTx) error {
		err := tx.QueryRow(`INSERT INTO holders(name, title, member_number, organization, email, seal, org_id, country, created) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id`,
			h.Name, h.Title, h.MemberNumber, h.Organization, h.Email, h.Seal, h.OrganizationID, h.Country, time.Now().Unix()).Scan(&id)
		if err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		for i, q := range h.Questions {
			if _, err := tx.Exec(`INSERT INTO questions(holder_id, idx, question, answer_hash) VALUES (?,?,?,?)`,
				id, i, q.Question, hashes[i]); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
		}
		if ref, err = a.newReference(tx, id, len(h.Questions)); err != nil {
			return err
		}
		return tx.audit(EventHolderEnrolled, holderSubject(id), h.auditDetails(ref))
	})
	if err != nil {
		return 0, "", err
	}
	return id, ref, nil
}

// newReference creates a pending reference for a holder with n questions,
// choosing which 3 it will show.
func (a *Authority) newReference(tx *dbTx, holderID int64, n int) (string, error) {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := n - 1; i > 0; i-- { // Fisher–Yates with crypto/rand
		j, _ := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		perm[i], perm[j.Int64()] = perm[j.Int64()], perm[i]
	}
	// Shown in the order the holder registered them, so that an answers
	// file written in that order fits whatever subset is drawn.
	chosen := perm[:shownQuestions]
	slices.Sort(chosen)
	shown := make([]string, shownQuestions)
	for i, q := range chosen {
		shown[i] = strconv.Itoa(q)
	}
	now := time.Now()
	code := protocol.NewRefCode()
	_, err := tx.Exec(`INSERT INTO refs(code, holder_id, created, expires, shown) VALUES (?,?,?,?,?)`,
		code, holderID, now.Unix(), now.AddDate(0, 0, a.Config.ReferenceTTLDays).Unix(), strings.Join(shown, ","))
	if err != nil {
		return "", fmt.Errorf("ca: database: %w", err)
	}
	return code, nil
}

// Errors of the admin commands.
var (
	ErrUnknownReference = errors.New("ca: no such reference code")
	ErrStillUsable      = errors.New("ca: the reference code is still usable")
	ErrUnknownSerial    = errors.New("ca: no certificate with that serial number")
	ErrAlreadyRevoked   = errors.New("ca: the certificate is already revoked")
	// ErrSerialFormat: the serial number given is not hexadecimal.
	ErrSerialFormat = errors.New("ca: not a serial number in hexadecimal")
	// ErrReason: the revocation reason is not one Revoke accepts.
	ErrReason = errors.New("ca: not a revocation reason")
)

// Reissue gives the holder of a locked, used, expired or superseded
// reference a new code. The old one can no longer be used.
func (a *Authority) Reissue(ctx context.Context, typed string, force bool) (string, error) {
	code, err := protocol.ParseRefCode(typed)
	if err != nil {
		return "", err
	}
	var newCode string
	err = a.db.tx(ctx, func(tx *dbTx) error {
		// The holder first: two reissues for one holder, whatever their
		// codes, go one after the other, and the second sees the first's.
		var holderID int64
		switch err := tx.QueryRow(`SELECT holder_id FROM refs WHERE code = ?`, code).Scan(&holderID); {
		case errors.Is(err, sql.ErrNoRows):
			return ErrUnknownReference
		case err != nil:
			return fmt.Errorf("ca: database: %w", err)
		}
		if err := tx.QueryRow(`SELECT id FROM holders WHERE id = ? FOR UPDATE`, holderID).Scan(&holderID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		r, err := loadRef(tx, code)
		if err != nil {
			return err
		}
		if r.state(time.Now()) == protocol.StatePending && !force {
			return ErrStillUsable
		}
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM questions WHERE holder_id = ?`, r.holderID).Scan(&n); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		// Every code of the holder not yet used stops working: one holder,
		// one usable code.
		if _, err := tx.Exec(`UPDATE refs SET superseded = TRUE, auth_code = NULL WHERE holder_id = ? AND used = FALSE`, r.holderID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if newCode, err = a.newReference(tx, r.holderID, n); err != nil {
			return err
		}
		return tx.audit(EventReissued, holderSubject(r.holderID), map[string]string{
			"reference": protocol.RedactRef(newCode), "replaces": protocol.RedactRef(code), "forced": strconv.FormatBool(force)})
	})
	return newCode, err
}

// ref is a row of refs.
type ref struct {
	code         string
	holderID     int64
	expires      time.Time
	shown        []int
	failures     int
	windowStart  int64
	windowChecks int
	used         bool
	superseded   bool
	authCode     string
	authExpires  time.Time
}

func (r *ref) state(now time.Time) string {
	switch {
	case r.used:
		return protocol.StateUsed
	case r.failures >= protocol.MaxAttempts:
		return protocol.StateLocked
	case r.superseded, !now.Before(r.expires):
		return protocol.StateExpired
	}
	return protocol.StatePending
}

type querier interface {
	QueryRow(query string, args ...any) *sql.Row
}

func loadRef(q querier, code string) (*ref, error) {
	var r ref
	var expires, authExpires sql.NullInt64
	var shown string
	var auth sql.NullString
	err := q.QueryRow(`SELECT code, holder_id, expires, shown, failures, window_start, window_checks, used, superseded, auth_code, auth_expires FROM refs WHERE code = ?`+forUpdate(q), code).
		Scan(&r.code, &r.holderID, &expires, &shown, &r.failures, &r.windowStart, &r.windowChecks, &r.used, &r.superseded, &auth, &authExpires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnknownReference
	}
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	r.expires = time.Unix(expires.Int64, 0)
	r.authCode = auth.String
	r.authExpires = time.Unix(authExpires.Int64, 0)
	for _, s := range strings.Split(shown, ",") {
		i, _ := strconv.Atoi(s)
		r.shown = append(r.shown, i)
	}
	return &r, nil
}

func loadHolder(q querier, id int64) (*Holder, error) {
	h := &Holder{ID: id}
	err := q.QueryRow(`SELECT name, title, member_number, organization, email, seal, org_id, country FROM holders WHERE id = ?`, id).
		Scan(&h.Name, &h.Title, &h.MemberNumber, &h.Organization, &h.Email, &h.Seal, &h.OrganizationID, &h.Country)
	if err != nil {
		return nil, fmt.Errorf("ca: database: holder %d: %w", id, err)
	}
	return h, nil
}

// HolderStatus is a line of List.
type HolderStatus struct {
	Holder
	References   []RefStatus  `json:"references"`
	Certificates []CertStatus `json:"certificates"`
}

// RefStatus describes a reference code. Only the first group of the code
// is shown unless the caller asks for full codes.
type RefStatus struct {
	Code     string    `json:"code"`
	State    string    `json:"state"`
	Failures int       `json:"failures"`
	Expires  time.Time `json:"expires"`
}

// CertStatus describes an issued certificate.
type CertStatus struct {
	Serial      string     `json:"serial"`
	Issued      time.Time  `json:"issued"`
	NotAfter    time.Time  `json:"not_after"`
	Predecessor string     `json:"predecessor,omitempty"`
	Revoked     *time.Time `json:"revoked,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	// SupersededFrom is when a renewed certificate will be revoked as
	// superseded, at the end of the CA's renewal overlap.
	SupersededFrom *time.Time `json:"superseded_from,omitempty"`
}

// List returns every holder with their references and certificates.
func (a *Authority) List(ctx context.Context, fullCodes bool) ([]HolderStatus, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT id FROM holders ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	now := time.Now()
	var out []HolderStatus
	for _, id := range ids {
		h, err := loadHolder(a.db, id)
		if err != nil {
			return nil, err
		}
		hs := HolderStatus{Holder: *h, References: []RefStatus{}, Certificates: []CertStatus{}}
		codes, err := a.db.QueryContext(ctx, `SELECT code FROM refs WHERE holder_id = ? ORDER BY created`, id)
		if err != nil {
			return nil, fmt.Errorf("ca: database: %w", err)
		}
		var cs []string
		for codes.Next() {
			var c string
			codes.Scan(&c)
			cs = append(cs, c)
		}
		codes.Close()
		for _, c := range cs {
			r, err := loadRef(a.db, c)
			if err != nil {
				return nil, err
			}
			shown := c
			if !fullCodes {
				shown = protocol.RedactRef(c)
			}
			hs.References = append(hs.References, RefStatus{Code: shown, State: r.state(now), Failures: r.failures, Expires: r.expires})
		}
		crows, err := a.db.QueryContext(ctx, `SELECT serial, issued, not_after, predecessor, revoked, reason FROM certs WHERE holder_id = ? ORDER BY issued`, id)
		if err != nil {
			return nil, fmt.Errorf("ca: database: %w", err)
		}
		for crows.Next() {
			var c CertStatus
			var issued, notAfter int64
			var pred, reason sql.NullString
			var revoked sql.NullInt64
			if err := crows.Scan(&c.Serial, &issued, &notAfter, &pred, &revoked, &reason); err != nil {
				crows.Close()
				return nil, fmt.Errorf("ca: database: %w", err)
			}
			c.Issued, c.NotAfter, c.Predecessor, c.Reason = time.Unix(issued, 0), time.Unix(notAfter, 0), pred.String, reason.String
			if revoked.Valid {
				t := time.Unix(revoked.Int64, 0)
				if t.After(now) {
					c.SupersededFrom = &t
				} else {
					c.Revoked = &t
				}
			}
			hs.Certificates = append(hs.Certificates, c)
		}
		crows.Close()
		out = append(out, hs)
	}
	return out, nil
}

// Revocation reasons (RFC 5280 CRLReason names).
var revocationReasons = map[string]bool{
	"unspecified": true, reasonKeyCompromise: true, "affiliationChanged": true,
	reasonSuperseded: true, "cessationOfOperation": true, "certificateHold": false,
}

const (
	reasonKeyCompromise = "keyCompromise"
	reasonSuperseded    = "superseded"
)

// certRow is a row of certs, as revocation reads it.
type certRow struct {
	serial      string
	holderID    int64
	predecessor string
	revoked     sql.NullInt64 // may lie ahead: superseded after an overlap
	reason      string
}

// revokedAt reports whether the certificate is revoked at t.
func (c *certRow) revokedAt(t time.Time) bool { return c.revoked.Valid && c.revoked.Int64 <= t.Unix() }

func loadCert(q querier, serial string) (*certRow, error) {
	c := &certRow{serial: serial}
	var pred, reason sql.NullString
	err := q.QueryRow(`SELECT holder_id, predecessor, revoked, reason FROM certs WHERE serial = ?`+forUpdate(q), serial).
		Scan(&c.holderID, &pred, &c.revoked, &reason)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnknownSerial
	}
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	c.predecessor, c.reason = pred.String, reason.String
	return c, nil
}

// Revoke revokes a certificate. Serial is hex in any of the forms
// ParseSerial accepts. A certificate the root issued (issuing CA, TSA,
// TLS) needs the root (UseRoot): the root CRL is signed again.
//
// A key compromise also revokes the certificates renewed from it, directly
// or further down (renewal is authenticated by the key, so whoever held it
// could have renewed), and may be declared for a certificate already
// revoked as superseded: the reason changes, the time stays.
func (a *Authority) Revoke(ctx context.Context, serial, reason string) error {
	_, err := a.RevokeChain(ctx, serial, reason)
	return err
}

// RevokeChain is Revoke that returns the serial numbers it revoked: the
// certificate's, then its successors' for a key compromise.
func (a *Authority) RevokeChain(ctx context.Context, serial, reason string) ([]string, error) {
	if reason == "" {
		reason = "unspecified"
	}
	if !revocationReasons[reason] {
		return nil, fmt.Errorf("%w: %q", ErrReason, reason)
	}
	serial, err := ParseSerial(serial)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var revoked []string
	err = a.db.tx(ctx, func(tx *dbTx) error {
		var err error
		revoked, err = a.revokeIn(tx, serial, reason, now)
		if err != nil {
			return err
		}
		// The records last: the chain's head is locked after the rows.
		for i, s := range revoked {
			d := map[string]string{"reason": reason}
			if i > 0 {
				d["renewed_from"] = revoked[i-1] // a key compromise's successors
			}
			if err := tx.audit(EventRevoked, certSubject(s), d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.ocspRevoked(revoked)
	return revoked, nil
}

// revokeIn revokes serial, and its successors for a key compromise, in
// tx, and returns the serial numbers it revoked.
func (a *Authority) revokeIn(tx *dbTx, serial, reason string, now time.Time) ([]string, error) {
	var revoked []string
	// revoke revokes c unless it already is (for a reason a key
	// compromise does not override) and reports whether it did.
	revoke := func(c *certRow) (bool, error) {
		at := now.Unix()
		if c.revokedAt(now) {
			if c.reason != reasonSuperseded || reason != reasonKeyCompromise {
				return false, nil
			}
			at = c.revoked.Int64
		}
		if _, err := tx.Exec(`UPDATE certs SET revoked = ?, reason = ? WHERE serial = ?`, at, reason, c.serial); err != nil {
			return false, fmt.Errorf("ca: database: %w", err)
		}
		revoked = append(revoked, c.serial)
		return true, nil
	}
	c, err := loadCert(tx, serial)
	if errors.Is(err, ErrUnknownSerial) {
		// Perhaps one the root issued: the issuing CA, the TSA, TLS.
		var at sql.NullInt64
		switch err := tx.QueryRow(`SELECT revoked FROM root_certs WHERE serial = ? FOR UPDATE`, serial).Scan(&at); {
		case errors.Is(err, sql.ErrNoRows):
			return nil, ErrUnknownSerial
		case err != nil:
			return nil, fmt.Errorf("ca: database: %w", err)
		case at.Valid:
			return nil, ErrAlreadyRevoked
		}
		return []string{serial}, a.revokeRootIssued(tx, serial, reason, now)
	}
	if err != nil {
		return nil, err
	}
	if ok, err := revoke(c); err != nil || !ok {
		if err == nil {
			err = ErrAlreadyRevoked
		}
		return nil, err
	}
	for reason == reasonKeyCompromise {
		var next string
		err := tx.QueryRow(`SELECT serial FROM certs WHERE predecessor = ?`, c.serial).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ca: database: %w", err)
		}
		if c, err = loadCert(tx, next); err != nil {
			return nil, err
		}
		if _, err := revoke(c); err != nil {
			return nil, err
		}
	}
	return revoked, nil
}

// ParseSerial reads a serial number in hexadecimal as people copy it: as
// List shows it ("10a7b…"), as openssl x509 -serial prints it
// ("serial=010A7B…": upper case, padded to whole bytes), with colons
// between bytes ("01:0a:7b…") or with 0x in front, and returns it as the
// CA writes it (lower case, no leading zeros).
func ParseSerial(s string) (string, error) {
	s = strings.TrimSpace(s)
	if k, v, ok := strings.Cut(s, "="); ok && strings.EqualFold(strings.TrimSpace(k), "serial") {
		s = strings.TrimSpace(v)
	}
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s = s[2:]
	}
	s = strings.ReplaceAll(s, ":", "")
	// Serial numbers are at most 20 bytes (RFC 5280 4.1.2.2); the limit
	// leaves room for zeros in front.
	if s == "" || len(s) > 64 || strings.Trim(s, "0123456789abcdefABCDEF") != "" {
		return "", ErrSerialFormat
	}
	n, _ := new(big.Int).SetString(s, 16)
	return serialHex(n), nil
}

// serialHex is how serial numbers are written in the database and shown.
func serialHex(n *big.Int) string { return fmt.Sprintf("%x", n) }
