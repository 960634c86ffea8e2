package portal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Conditions a caller branches on.
var (
	ErrUnknownCode     = errors.New("portal: no supplier has this master code")
	ErrUnknownUser     = errors.New("portal: no user of this supplier has this national ID number")
	ErrUserExists      = errors.New("portal: this supplier already has a user with this national ID number")
	ErrCertRegistered  = errors.New("portal: this certificate is already registered")
	ErrCertUnknown     = errors.New("portal: this certificate is not registered")
	ErrCertRevoked     = errors.New("portal: the supplier's administrator revoked this certificate")
	ErrNotAdmin        = errors.New("portal: only the supplier's administrator may do this")
	ErrSessionNotFound = errors.New("portal: no such session")
)

// Crockford's base32 without I, L, O, U: codes read out on the phone.
var codeEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// newCode returns groups of four random characters joined by dashes.
func newCode(groups int) string {
	b := make([]byte, groups*5/2+1)
	rand.Read(b)
	s := codeEncoding.EncodeToString(b)[:groups*4]
	var parts []string
	for i := 0; i < len(s); i += 4 {
		parts = append(parts, s[i:i+4])
	}
	return strings.Join(parts, "-")
}

// normalizeCode reads a master code as typed: case, spaces and dashes
// ignored, O read as 0 and I, L as 1.
func normalizeCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "O", "0", "I", "1", "L", "1").Replace(strings.TrimSpace(s)))
	var parts []string
	for i := 0; i < len(s); i += 4 {
		parts = append(parts, s[i:min(i+4, len(s))])
	}
	return strings.Join(parts, "-")
}

func hashHex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Supplier is a company registered with the portal.
type Supplier struct {
	ID   int64
	Name string
}

// AddSupplier registers a supplier and returns its master code, shown
// once: only its hash is kept.
func (s *Store) AddSupplier(ctx context.Context, name string, now time.Time) (Supplier, string, error) {
	code := newCode(4)
	var id int64
	err := s.queryRow(ctx, s.db, `INSERT INTO suppliers (name, code_hash, created) VALUES (?, ?, ?) RETURNING id`, name, hashHex(code), now.Unix()).Scan(&id)
	if err != nil {
		return Supplier{}, "", fmt.Errorf("portal: database: %w", err)
	}
	return Supplier{ID: id, Name: name}, code, nil
}

// Suppliers lists the suppliers.
func (s *Store) Suppliers(ctx context.Context) ([]Supplier, error) {
	rows, err := s.query(ctx, s.db, `SELECT id, name FROM suppliers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("portal: database: %w", err)
	}
	defer rows.Close()
	var out []Supplier
	for rows.Next() {
		var sp Supplier
		if err := rows.Scan(&sp.ID, &sp.Name); err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, rows.Err()
}

// SupplierByCode finds the supplier of a master code.
func (s *Store) SupplierByCode(ctx context.Context, code string) (Supplier, error) {
	var sp Supplier
	err := s.queryRow(ctx, s.db, `SELECT id, name FROM suppliers WHERE code_hash = ?`, hashHex(normalizeCode(code))).Scan(&sp.ID, &sp.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return sp, ErrUnknownCode
	}
	return sp, err
}

func (s *Store) supplier(ctx context.Context, id int64) (Supplier, error) {
	sp := Supplier{ID: id}
	err := s.queryRow(ctx, s.db, `SELECT name FROM suppliers WHERE id = ?`, id).Scan(&sp.Name)
	return sp, err
}

// User is a supplier's user.
type User struct {
	ID                           string
	SupplierID                   int64
	NationalID, Name, Email, Tel string
	Admin                        bool
}

// Registration is the registration form.
type Registration struct {
	Name       string `json:"name"`
	NationalID string `json:"national_id"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
	Admin      bool   `json:"admin"`
}

// RegisteredCert is a certificate registered for a user.
type RegisteredCert struct {
	ID         int64
	UserID     string
	UserName   string
	Holder     string
	Member     string
	Issuer     string
	NotAfter   time.Time
	Registered time.Time
	Revoked    *time.Time
}

func certColumns(c *x509.Certificate) (fp, holder, member, issuer string) {
	h := sha256.Sum256(c.Raw)
	return hex.EncodeToString(h[:]), c.Subject.CommonName, c.Subject.SerialNumber, c.Issuer.CommonName
}

// Register creates the user of r under supplier with certificate cert and
// returns it; the first user of the supplier who asks to be administrator
// becomes it, the others do not (admin false). Registrations of one
// supplier wait for each other (its row is locked): of two at once, one
// is the administrator and a national ID number is taken once.
func (s *Store) Register(ctx context.Context, supplier int64, r Registration, cert *x509.Certificate, now time.Time) (User, error) {
	var u User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		u = User{ID: "U-" + newCode(2), SupplierID: supplier, NationalID: r.NationalID, Name: r.Name, Email: r.Email, Tel: r.Phone}
		var id int64
		if err := s.queryRow(ctx, tx, `SELECT id FROM suppliers WHERE id = ? FOR UPDATE`, supplier).Scan(&id); err != nil {
			return fmt.Errorf("portal: database: %w", err)
		}
		var n int
		if err := s.queryRow(ctx, tx, `SELECT count(*) FROM users WHERE supplier_id = ? AND national_id = ?`, supplier, r.NationalID).Scan(&n); err != nil {
			return fmt.Errorf("portal: database: %w", err)
		}
		if n > 0 {
			return ErrUserExists
		}
		if r.Admin {
			if err := s.queryRow(ctx, tx, `SELECT count(*) FROM users WHERE supplier_id = ? AND admin = TRUE`, supplier).Scan(&n); err != nil {
				return fmt.Errorf("portal: database: %w", err)
			}
			u.Admin = n == 0
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO users (id, supplier_id, national_id, name, email, phone, admin, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, supplier, u.NationalID, u.Name, u.Email, u.Tel, u.Admin, now.Unix()); err != nil {
			if _, dup := uniqueViolation(err); dup {
				return ErrUserExists
			}
			return fmt.Errorf("portal: database: %w", err)
		}
		return s.addCert(ctx, tx, u.ID, cert, now)
	})
	return u, err
}

// addCert registers cert for user; a certificate registered already, by
// anyone, is ErrCertRegistered (the UNIQUE fingerprint decides between
// two at once).
func (s *Store) addCert(ctx context.Context, tx *sql.Tx, user string, cert *x509.Certificate, now time.Time) error {
	fp, holder, member, issuer := certColumns(cert)
	_, err := s.exec(ctx, tx, `INSERT INTO certificates (user_id, fingerprint, der, holder, member, issuer, not_after, registered) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		user, fp, cert.Raw, holder, member, issuer, cert.NotAfter.Unix(), now.Unix())
	if _, dup := uniqueViolation(err); dup {
		return ErrCertRegistered
	}
	if err != nil {
		return fmt.Errorf("portal: database: %w", err)
	}
	return nil
}

// HasAdmin reports whether supplier has an administrator.
func (s *Store) HasAdmin(ctx context.Context, supplier int64) (bool, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT count(*) FROM users WHERE supplier_id = ? AND admin = TRUE`, supplier).Scan(&n)
	return n > 0, err
}

// UserByNationalID finds the supplier's user with that national ID number.
func (s *Store) UserByNationalID(ctx context.Context, supplier int64, nationalID string) (User, error) {
	return s.user(ctx, `supplier_id = ? AND national_id = ?`, supplier, strings.TrimSpace(nationalID))
}

// User returns user id.
func (s *Store) User(ctx context.Context, id string) (User, error) { return s.user(ctx, `id = ?`, id) }

func (s *Store) user(ctx context.Context, where string, args ...any) (User, error) {
	var u User
	err := s.queryRow(ctx, s.db, `SELECT id, supplier_id, national_id, name, email, phone, admin FROM users WHERE `+where, args...).
		Scan(&u.ID, &u.SupplierID, &u.NationalID, &u.Name, &u.Email, &u.Tel, &u.Admin)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrUnknownUser
	}
	return u, err
}

// AddCertificate registers another certificate under an existing user
// (delegation).
func (s *Store) AddCertificate(ctx context.Context, user string, cert *x509.Certificate, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.addCert(ctx, tx, user, cert, now) })
}

// CertificateFor finds the registered certificate cert and its user;
// a revoked one is ErrCertRevoked.
func (s *Store) CertificateFor(ctx context.Context, cert *x509.Certificate) (RegisteredCert, User, error) {
	fp, _, _, _ := certColumns(cert)
	var id int64
	var user string
	var revoked sql.NullInt64
	err := s.queryRow(ctx, s.db, `SELECT id, user_id, revoked FROM certificates WHERE fingerprint = ?`, fp).Scan(&id, &user, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return RegisteredCert{}, User{}, ErrCertUnknown
	}
	if err != nil {
		return RegisteredCert{}, User{}, err
	}
	if revoked.Valid {
		return RegisteredCert{}, User{}, ErrCertRevoked
	}
	u, err := s.User(ctx, user)
	return RegisteredCert{ID: id, UserID: user}, u, err
}

// SupplierCertificates lists the certificates of every user of supplier.
func (s *Store) SupplierCertificates(ctx context.Context, supplier int64) ([]RegisteredCert, error) {
	return s.certs(ctx, `u.supplier_id = ?`, supplier)
}

// UserCertificates lists a user's certificates.
func (s *Store) UserCertificates(ctx context.Context, user string) ([]RegisteredCert, error) {
	return s.certs(ctx, `u.id = ?`, user)
}

func (s *Store) certs(ctx context.Context, where string, arg any) ([]RegisteredCert, error) {
	rows, err := s.query(ctx, s.db, `SELECT c.id, u.id, u.name, c.holder, c.member, c.issuer, c.not_after, c.registered, c.revoked
		FROM certificates c JOIN users u ON u.id = c.user_id WHERE `+where+` ORDER BY c.id`, arg)
	if err != nil {
		return nil, fmt.Errorf("portal: database: %w", err)
	}
	defer rows.Close()
	var out []RegisteredCert
	for rows.Next() {
		var c RegisteredCert
		var notAfter, registered int64
		var revoked sql.NullInt64
		if err := rows.Scan(&c.ID, &c.UserID, &c.UserName, &c.Holder, &c.Member, &c.Issuer, &notAfter, &registered, &revoked); err != nil {
			return nil, err
		}
		c.NotAfter, c.Registered = time.Unix(notAfter, 0), time.Unix(registered, 0)
		if revoked.Valid {
			t := time.Unix(revoked.Int64, 0)
			c.Revoked = &t
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Revoke revokes certificate id of the supplier admin administers.
func (s *Store) Revoke(ctx context.Context, admin User, id int64, now time.Time) error {
	if !admin.Admin {
		return ErrNotAdmin
	}
	res, err := s.exec(ctx, s.db, `UPDATE certificates SET revoked = ?, revoked_by = ? WHERE id = ? AND revoked IS NULL
		AND user_id IN (SELECT id FROM users WHERE supplier_id = ?)`, now.Unix(), admin.ID, id, admin.SupplierID)
	if err != nil {
		return fmt.Errorf("portal: database: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrCertUnknown
	}
	return nil
}
