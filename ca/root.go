package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// The root CA's private key lives in a folder of its own, apart from the
// CA folder the server reads: paraphe-ca serve never opens it, and the
// operator keeps it offline. The commands that need it open it with
// OpenRoot: init, signing the root's CRL for a period ahead, revoking and
// renewing the certificates the root issued (the issuing CA, the TSA and
// the server's TLS certificate), which are recorded in the database.
//
// The root's CRL is a file in the CA folder, signed ahead for
// Config.RootCRLDays; the server serves that file.

// Files of a root folder; root.pem is in the CA folder too.
const fileRootCRL = "root.crl"

// Roles of the certificates the root issues.
const (
	RoleIssuing = "issuing"
	RoleTSA     = "tsa"
	RoleTLS     = "tls"
)

// roleFiles are the files of each role's certificate in the CA folder.
var roleFiles = map[string]struct{ cert, key string }{
	RoleIssuing: {fileIssuerCert, fileIssuerKey},
	RoleTSA:     {fileTSACert, fileTSAKey},
	RoleTLS:     {fileTLSCert, fileTLSKey},
}

// Errors of the root's commands.
var (
	// ErrNoRoot: the folder given holds no root key.
	ErrNoRoot = errors.New("ca: the folder holds no root CA key")
	// ErrWrongRoot: the root key given is not this CA's root.
	ErrWrongRoot = errors.New("ca: the root key is not this CA's root")
	// ErrNeedRoot: the operation needs the root key (UseRoot).
	ErrNeedRoot = errors.New("ca: this needs the root CA's key")
	// ErrRootExists: Init would overwrite a root key.
	ErrRootExists = errors.New("ca: the root folder already holds a root key")
	// ErrRootKeyInFolder: a root private key lies in the CA folder, which
	// the server reads.
	ErrRootKeyInFolder = errors.New("ca: the root CA's private key is in the CA folder")
	// ErrNoRootCRL: the CA folder has no root CRL to serve.
	ErrNoRootCRL = errors.New("ca: the CA folder has no root CRL")
)

// Root is the root CA with its private key.
type Root struct {
	Dir  string
	Cert *x509.Certificate
	key  crypto.Signer
}

// OpenRoot opens the root CA key in dir.
func OpenRoot(dir string) (*Root, error) {
	if _, err := os.Stat(filepath.Join(dir, fileRootKey)); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoRoot, dir)
	}
	cert, err := readCert(filepath.Join(dir, fileRootCert))
	if err != nil {
		return nil, err
	}
	key, err := readKey(filepath.Join(dir, fileRootKey))
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("ca: %s does not hold the key of %s", fileRootKey, fileRootCert)
	}
	return &Root{Dir: dir, Cert: cert, key: key}, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// UseRoot lets this Authority use the root key for the operations that
// need it. r must be the root of this CA.
func (a *Authority) UseRoot(r *Root) error {
	if !r.Cert.Equal(a.Root) {
		return fmt.Errorf("%w: %s", ErrWrongRoot, r.Dir)
	}
	a.root = r
	return nil
}

// RootKeyInFolder returns the path of a root private key found in the CA
// folder (as folders made before the root had its own left it), or "".
func (a *Authority) RootKeyInFolder() string {
	for _, p := range []string{filepath.Join(a.Dir, fileRootKey), filepath.Join(a.Dir, "root", fileRootKey)} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// AuthorityCert is a certificate the root issued.
type AuthorityCert struct {
	Role     string     `json:"role"` // RoleIssuing, RoleTSA or RoleTLS
	Serial   string     `json:"serial"`
	Subject  string     `json:"subject"`
	Issued   time.Time  `json:"issued"`
	NotAfter time.Time  `json:"not_after"`
	Current  bool       `json:"current"` // the one the CA folder holds
	Revoked  *time.Time `json:"revoked,omitempty"`
	Reason   string     `json:"reason,omitempty"`
}

// recordRootIssued records a certificate the root issued.
func recordRootIssued(q execer, role string, c *x509.Certificate) error {
	_, err := q.Exec(`INSERT INTO root_certs(serial, role, issued, not_after, der) VALUES (?,?,?,?,?) ON CONFLICT (serial) DO NOTHING`,
		serialHex(c.SerialNumber), role, c.NotBefore.Unix(), c.NotAfter.Unix(), c.Raw)
	if err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	return nil
}

type execer interface {
	Exec(query string, args ...any) (sql.Result, error)
}

// recordCurrent records the certificates of the CA folder the root
// issued, for folders made before they were recorded.
func (a *Authority) recordCurrent() error {
	for role, f := range roleFiles {
		c, err := readCert(filepath.Join(a.Dir, f.cert))
		if err != nil {
			return err
		}
		if c.CheckSignatureFrom(a.Root) != nil {
			continue
		}
		if err := recordRootIssued(a.db, role, c); err != nil {
			return err
		}
	}
	return nil
}

// ListAuthority returns the certificates the root issued.
func (a *Authority) ListAuthority(ctx context.Context) ([]AuthorityCert, error) {
	current := map[string]bool{}
	for _, f := range roleFiles {
		if c, err := readCert(filepath.Join(a.Dir, f.cert)); err == nil {
			current[serialHex(c.SerialNumber)] = true
		}
	}
	rows, err := a.db.QueryContext(ctx, `SELECT serial, role, issued, not_after, der, revoked, reason FROM root_certs ORDER BY issued, role`)
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	defer rows.Close()
	out := []AuthorityCert{}
	for rows.Next() {
		var c AuthorityCert
		var issued, notAfter int64
		var der []byte
		var revoked sql.NullInt64
		var reason sql.NullString
		if err := rows.Scan(&c.Serial, &c.Role, &issued, &notAfter, &der, &revoked, &reason); err != nil {
			return nil, fmt.Errorf("ca: database: %w", err)
		}
		c.Issued, c.NotAfter, c.Reason, c.Current = time.Unix(issued, 0), time.Unix(notAfter, 0), reason.String, current[c.Serial]
		if cert, err := x509.ParseCertificate(der); err == nil {
			c.Subject = cert.Subject.String()
		}
		if revoked.Valid {
			t := time.Unix(revoked.Int64, 0)
			c.Revoked = &t
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// revokeRootIssued revokes a certificate the root issued and signs the
// root CRL again, in the transaction: the database never says revoked
// what the CRL does not.
func (a *Authority) revokeRootIssued(tx *dbTx, serial, reason string, now time.Time) error {
	if a.root == nil {
		return ErrNeedRoot
	}
	if _, err := tx.Exec(`UPDATE root_certs SET revoked = ?, reason = ? WHERE serial = ?`, now.Unix(), reason, serial); err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	return a.writeRootCRL(tx, now)
}

// SignRootCRL signs the root's CRL for Config.RootCRLDays from now and
// writes it into the CA folder, where the server serves it from.
func (a *Authority) SignRootCRL(ctx context.Context) (*x509.RevocationList, error) {
	if a.root == nil {
		return nil, ErrNeedRoot
	}
	err := a.db.tx(ctx, func(tx *dbTx) error {
		now := time.Now()
		if err := a.writeRootCRL(tx, now); err != nil {
			return err
		}
		return tx.audit(EventRootCRLSigned, "root_crl", map[string]string{
			"next_update": now.AddDate(0, 0, a.Config.RootCRLDays).UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return nil, err
	}
	return a.RootCRLInfo()
}

// RootCRLInfo reads the root CRL the server serves.
func (a *Authority) RootCRLInfo() (*x509.RevocationList, error) {
	der, err := a.RootCRL()
	if err != nil {
		return nil, err
	}
	l, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", fileRootCRL, err)
	}
	return l, nil
}

// RootCRL returns the root CRL file (DER).
func (a *Authority) RootCRL() ([]byte, error) {
	der, err := os.ReadFile(filepath.Join(a.Dir, fileRootCRL))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoRootCRL, a.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	return der, nil
}

// rowQuerier is a database or a transaction.
type rowQuerier interface {
	querier
	Query(query string, args ...any) (*sql.Rows, error)
}

func (a *Authority) writeRootCRL(q rowQuerier, now time.Time) error {
	der, err := signRootCRL(q, a.root, a.Config.RootCRLDays, a.rootCRLNumber(now), now)
	if err != nil {
		return err
	}
	return a.writeFile(fileRootCRL, der, 0o644)
}

// writeFile replaces a file of the CA folder, keeping it the folder
// owner's.
func (a *Authority) writeFile(name string, data []byte, perm os.FileMode) error {
	return writeFileIn(a.Dir, name, data, perm)
}

// rootCRLNumber is the next root CRL's number: the time, or one more than
// the last CRL's when that is later (two CRLs signed in one second).
func (a *Authority) rootCRLNumber(now time.Time) *big.Int {
	n := big.NewInt(now.Unix())
	if l, err := a.RootCRLInfo(); err == nil && l.Number != nil && l.Number.Cmp(n) >= 0 {
		n.Add(l.Number, big.NewInt(1))
	}
	return n
}

// signRootCRL is the root's CRL listing the revoked certificates of
// root_certs, valid days from now.
func signRootCRL(q rowQuerier, r *Root, days int, number *big.Int, now time.Time) ([]byte, error) {
	entries, err := revokedEntries(q, `SELECT serial, revoked, reason FROM root_certs WHERE revoked IS NOT NULL ORDER BY revoked`)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                now.Add(-time.Minute),
		NextUpdate:                now.AddDate(0, 0, days),
		RevokedCertificateEntries: entries,
	}
	der, err := x509.CreateRevocationList(nil, tmpl, r.Cert, r.key)
	if err != nil {
		return nil, fmt.Errorf("ca: signing the root CRL: %w", err)
	}
	return der, nil
}

// SerialOf is a certificate's serial number as the CA writes it.
func SerialOf(c *x509.Certificate) string { return serialHex(c.SerialNumber) }

// RenewServiceCert issues a new key and certificate from the root for the
// TLS server (RoleTLS, for the same names) or the TSA (RoleTSA), records
// it and puts it in the CA folder, where the server takes it when it next
// starts. It returns the serial of the one it replaces, which stays valid
// until the operator revokes it.
func (a *Authority) RenewServiceCert(ctx context.Context, role string) (string, *x509.Certificate, error) {
	if a.root == nil {
		return "", nil, ErrNeedRoot
	}
	f, ok := roleFiles[role]
	if !ok || role == RoleIssuing {
		return "", nil, fmt.Errorf("ca: cannot renew the %q certificate", role)
	}
	old, err := readCert(filepath.Join(a.Dir, f.cert))
	if err != nil {
		return "", nil, err
	}
	var cert *x509.Certificate
	var key crypto.Signer
	var data []byte
	keys := keyStore(fileKeys{a.Dir}) // the TLS key is always a file
	if role == RoleTLS {
		hosts := append([]string{}, old.DNSNames...)
		for _, ip := range old.IPAddresses {
			hosts = append(hosts, ip.String())
		}
		cert, key, err = newTLS(a.Config, hosts, a.root)
		data = append(pemCert(cert), pemCert(a.Root)...)
	} else {
		keys = a.keys
		cert, key, err = newTSA(a.Config, a.root, keys)
		data = pemCert(cert)
	}
	if err != nil {
		return "", nil, err
	}
	err = a.db.tx(ctx, func(tx *dbTx) error {
		if err := recordRootIssued(tx, role, cert); err != nil {
			return err
		}
		// The key first: a crash between the two leaves the old
		// certificate with a key it does not match, which the server
		// refuses at start; running the command again mends it.
		if err := keys.keep(f.key, key, cert); err != nil {
			return err
		}
		if err := a.writeFile(f.cert, data, 0o644); err != nil {
			return err
		}
		return tx.audit(EventServiceRenewed, certSubject(serialHex(cert.SerialNumber)), map[string]string{
			"role": role, "replaces": serialHex(old.SerialNumber), "not_after": cert.NotAfter.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		keys.discard(key)
		return "", nil, err
	}
	return serialHex(old.SerialNumber), cert, nil
}
