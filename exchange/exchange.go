package exchange

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/paraphe/paraphe/internal/atomicfile"
)

// Files of an exchange folder.
const (
	fileConfig    = "config.json"
	fileDB        = "exchange.db"
	fileMasterKey = "master.key"
	fileTrust     = "trust.pem"
	dirDocuments  = "documents"
)

// Config is the exchange's settings, kept in config.json.
type Config struct {
	// Name is the firm's, shown on the pages and in the e-mails.
	Name string `json:"name"`
	// URL is the public address, which the e-mails' links point to; an
	// https URL makes the session cookies Secure (behind a reverse proxy
	// that ends TLS too).
	URL string `json:"url"`
	// Database is the SQLite file (relative to the folder), or the
	// postgres:// URL of a database the replicas share, without a
	// password: that comes from DatabasePasswordFile (one line, mode 600)
	// or, without it, from libpq's PGPASSFILE or ~/.pgpass.
	Database             string `json:"database"`
	DatabasePasswordFile string `json:"database_password_file,omitempty"`
	// Documents is the folder of the sealed documents (relative to the
	// folder, or a network file system the replicas share).
	Documents string `json:"documents"`
	// MasterKey is the file of the key that wraps the documents' keys
	// (relative to the folder); keep it off the documents' share. Empty
	// when the key is on a token (MasterKeyToken).
	MasterKey string `json:"master_key,omitempty"`
	// MasterKeyToken is the PKCS#11 token that holds the master key
	// instead, which the binary opens and hands over (UseToken).
	MasterKeyToken *PKCS11 `json:"master_key_token,omitempty"`
	// TLSCert and TLSKey are the server's certificate chain and key (PEM),
	// given by the operator; empty: plain HTTP, on loopback only.
	TLSCert string `json:"tls_cert,omitempty"`
	TLSKey  string `json:"tls_key,omitempty"`
	SMTP    SMTP   `json:"smtp"`
	// Trust is a PEM file of the roots that PDFs' signatures are verified
	// against (the firm's CA, say); empty: none, every signature is then at
	// best not decidable, never called altered for being unknown.
	Trust string `json:"trust,omitempty"`
	// VerifyOnline lets verification ask OCSP responders and fetch CRLs
	// for signatures that carry no revocation data.
	VerifyOnline bool `json:"verify_online,omitempty"`

	DefaultExpiryDays  int   `json:"default_expiry_days"`
	MaxExpiryDays      int   `json:"max_expiry_days"`
	MaxParcelMiB       int64 `json:"max_parcel_mib"`
	InvitationHours    int   `json:"invitation_hours"`
	SessionIdleMinutes int   `json:"session_idle_minutes"`
	SessionMaxHours    int   `json:"session_max_hours"`
	LockoutAttempts    int   `json:"lockout_attempts"`
	LockoutMinutes     int   `json:"lockout_minutes"`
	// AddressLockoutAttempts is how many failed sign-ins from one client
	// address, whatever the accounts, lock that address out for
	// LockoutMinutes.
	AddressLockoutAttempts int `json:"address_lockout_attempts"`
	// TrustedProxies are the reverse proxies (addresses or CIDR ranges)
	// whose X-Forwarded-For header names the client; without, the client
	// is the connection's peer and the header is ignored (a client could
	// write anything in it).
	TrustedProxies []string `json:"trusted_proxies,omitempty"`
}

// SMTP is the relay the e-mails go through.
type SMTP struct {
	Addr string `json:"addr,omitempty"` // host:port; empty: no e-mail, the operator hands links out
	From string `json:"from,omitempty"`
	// Username and PasswordFile authenticate to the relay (PLAIN, over
	// TLS only); the password is read from its own file, never kept here.
	Username     string `json:"username,omitempty"`
	PasswordFile string `json:"password_file,omitempty"`
	// TLS is "starttls" (the default: used when the relay offers it,
	// required when there are credentials), "tls" (port 465) or "none".
	TLS string `json:"tls,omitempty"`
}

// PKCS11 names the token of the master key, and the key on it.
type PKCS11 struct {
	Module string `json:"module"`          // the PKCS#11 library
	Token  string `json:"token,omitempty"` // label or serial number; empty: the only token present
	KeyID  string `json:"key_id"`          // the AES key's CKA_ID, in hex
	// Check is a known value Init sealed with the key (base64), by which
	// UseToken knows the key again.
	Check string `json:"check,omitempty"`
}

// InitOptions configure Init; zero values take the defaults.
type InitOptions struct {
	Name     string // "Paraphe Exchange"
	URL      string // "http://127.0.0.1:8444"
	Database string // exchange.db in the folder, or a postgres:// URL
	// DatabasePasswordFile holds the PostgreSQL password.
	DatabasePasswordFile string
	Documents            string // documents/ in the folder
	MasterKey            string // master.key in the folder
	// PKCS11 and TokenKey put the master key on a token instead: the key
	// the binary made there (pkcs.TokenKeys.NewSecretKey), and where it is.
	PKCS11   *PKCS11
	TokenKey TokenKey
	TLSCert  string
	TLSKey   string
	SMTP     SMTP
	// Trust is a PEM file of roots to copy into the folder as trust.pem.
	Trust          string
	VerifyOnline   bool
	TrustedProxies []string
}

// ErrNoExchange is returned by Open on a folder without an exchange.
var ErrNoExchange = errors.New("exchange: the folder holds no exchange")

// ErrExists is returned by Init on a folder that already holds one.
var ErrExists = errors.New("exchange: the folder already holds an exchange")

// ConfigError is a setting Init or Open cannot use.
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return "exchange: " + e.Field + ": " + e.Problem }

// Init creates an exchange in dir: its configuration, a new master key,
// the database and the documents folder.
func Init(dir string, o InitOptions) error {
	if _, err := os.Stat(filepath.Join(dir, fileConfig)); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, dir)
	}
	cfg := Config{Name: o.Name, URL: o.URL, Database: o.Database, DatabasePasswordFile: o.DatabasePasswordFile, Documents: o.Documents, MasterKey: o.MasterKey,
		TLSCert: o.TLSCert, TLSKey: o.TLSKey, SMTP: o.SMTP, VerifyOnline: o.VerifyOnline, TrustedProxies: o.TrustedProxies}
	if o.PKCS11 != nil {
		if o.TokenKey == nil || o.MasterKey != "" {
			return &ConfigError{"master_key_token", "a token's key, and no master key file"}
		}
		check, err := o.TokenKey.Seal(tokenCheck, []byte("check"))
		if err != nil {
			return fmt.Errorf("exchange: master key on the token: %w", err)
		}
		p := *o.PKCS11
		p.Check = base64.StdEncoding.EncodeToString(check)
		cfg.MasterKeyToken = &p
	}
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("exchange: %w", err)
	}
	if o.Trust != "" {
		data, err := os.ReadFile(o.Trust)
		if err != nil {
			return &ConfigError{"trust", err.Error()}
		}
		if _, err := parseRoots(data); err != nil {
			return &ConfigError{"trust", err.Error()}
		}
		if err := atomicfile.Write(filepath.Join(dir, fileTrust), data, 0o644); err != nil {
			return fmt.Errorf("exchange: %w", err)
		}
		cfg.Trust = fileTrust
	}
	if err := os.MkdirAll(resolve(dir, cfg.Documents), 0o700); err != nil {
		return fmt.Errorf("exchange: %w", err)
	}
	if err := initStore(dir, &cfg); err != nil {
		return err
	}
	if cfg.MasterKeyToken == nil {
		if err := newMasterKey(resolve(dir, cfg.MasterKey)); err != nil {
			return err
		}
	}
	data, _ := json.MarshalIndent(cfg, "", "  ")
	return atomicfile.Write(filepath.Join(dir, fileConfig), append(data, '\n'), 0o600)
}

// initStore makes the database of a new exchange: a PostgreSQL one must
// hold no other exchange's records (the replicas of one exchange share a
// database, two exchanges never do).
func initStore(dir string, cfg *Config) error {
	ctx := context.Background()
	db, err := openStore(ctx, dir, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	empty, err := db.empty(ctx)
	if err != nil {
		return fmt.Errorf("exchange: database: %w", err)
	}
	if !empty {
		return fmt.Errorf("%w: %s", ErrDatabaseInUse, db.name)
	}
	return nil
}

func (c *Config) defaults() {
	set := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	if c.Name == "" {
		c.Name = "Paraphe Exchange"
	}
	if c.URL == "" {
		c.URL = "http://127.0.0.1:8444"
	}
	if c.Database == "" {
		c.Database = fileDB
	}
	if c.Documents == "" {
		c.Documents = dirDocuments
	}
	if c.MasterKey == "" && c.MasterKeyToken == nil {
		c.MasterKey = fileMasterKey
	}
	if c.SMTP.TLS == "" {
		c.SMTP.TLS = "starttls"
	}
	if c.MaxParcelMiB == 0 {
		c.MaxParcelMiB = 4096
	}
	set(&c.DefaultExpiryDays, 30)
	set(&c.MaxExpiryDays, 365)
	set(&c.InvitationHours, 72)
	set(&c.SessionIdleMinutes, 30)
	set(&c.SessionMaxHours, 12)
	set(&c.LockoutAttempts, 5)
	set(&c.LockoutMinutes, 15)
	set(&c.AddressLockoutAttempts, 20)
}

func (c *Config) validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return &ConfigError{"url", fmt.Sprintf("%q is not an http:// or https:// address", c.URL)}
	}
	if isPostgres(c.Database) {
		if err := checkDatabaseURL(c.Database); err != nil {
			return &ConfigError{"database", err.Error()}
		}
	} else if c.DatabasePasswordFile != "" {
		return &ConfigError{"database", "a password file is for a postgres:// database"}
	}
	if t := c.MasterKeyToken; t != nil && (t.Module == "" || t.KeyID == "" || c.MasterKey != "") {
		return &ConfigError{"master_key_token", "the token's module and key id, and no master key file"}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return &ConfigError{"tls", "give the certificate and its key together"}
	}
	if c.SMTP.Addr != "" && c.SMTP.From == "" {
		return &ConfigError{"smtp", "the relay needs a sender address (--from)"}
	}
	switch c.SMTP.TLS {
	case "starttls", "tls", "none":
	default:
		return &ConfigError{"smtp", fmt.Sprintf("TLS %q is not starttls, tls or none", c.SMTP.TLS)}
	}
	if c.DefaultExpiryDays < 1 || c.DefaultExpiryDays > c.MaxExpiryDays {
		return &ConfigError{"default_expiry_days", fmt.Sprintf("must be 1 to %d", c.MaxExpiryDays)}
	}
	for _, p := range c.TrustedProxies {
		if _, err := parseProxy(p); err != nil {
			return &ConfigError{"trusted_proxies", fmt.Sprintf("%q is neither an IP address nor a CIDR range", p)}
		}
	}
	if c.AddressLockoutAttempts < 1 || c.LockoutAttempts < 1 || c.LockoutMinutes < 1 || c.InvitationHours < 1 || c.SessionIdleMinutes < 1 || c.SessionMaxHours < 1 || c.MaxParcelMiB < 1 {
		return &ConfigError{"limits", "the lockout, invitation, session and size limits must be at least 1"}
	}
	return nil
}

// resolve is path relative to dir, unless absolute.
func resolve(dir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// Exchange is an opened exchange folder.
type Exchange struct {
	Dir    string
	Config Config
	// Now is the clock (time.Now when nil): expiry, lockouts, invitations
	// and sessions are judged by it, so that tests move it.
	Now func() time.Time
	// Log receives one line per request and event; nothing secret.
	Log *slog.Logger

	db      *store
	keys    *masterKey
	docs    string // the documents folder
	roots   *x509.CertPool
	mail    mailer
	tls     *tls.Certificate
	hashing chan struct{} // bounds concurrent Argon2id work
	// passwordChecks counts the passwords checked (tests read it).
	passwordChecks atomic.Int64
}

// Open loads the exchange in dir.
func Open(dir string) (*Exchange, error) {
	data, err := os.ReadFile(filepath.Join(dir, fileConfig))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoExchange, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("exchange: %w", err)
	}
	x := &Exchange{Dir: dir, Log: slog.New(slog.DiscardHandler), hashing: make(chan struct{}, runtime.NumCPU())}
	if err := json.Unmarshal(data, &x.Config); err != nil {
		return nil, fmt.Errorf("exchange: %s: %w", fileConfig, err)
	}
	x.Config.defaults()
	if err := x.Config.validate(); err != nil {
		return nil, err
	}
	if err := x.load(); err != nil {
		return nil, err
	}
	if x.db, err = openStore(context.Background(), dir, &x.Config); err != nil {
		return nil, err
	}
	return x, nil
}

// load reads the key, the roots, the TLS identity and the mail settings.
func (x *Exchange) load() error {
	var err error
	if x.Config.MasterKeyToken != nil {
		x.keys = &masterKey{version: wrappedToken} // locked until UseToken
	} else if x.keys, err = readMasterKey(resolve(x.Dir, x.Config.MasterKey)); err != nil {
		return err
	}
	x.docs = resolve(x.Dir, x.Config.Documents)
	if fi, err := os.Stat(x.docs); err != nil || !fi.IsDir() {
		return &ConfigError{"documents", fmt.Sprintf("%s is not a folder", x.docs)}
	}
	if x.Config.Trust != "" {
		data, err := os.ReadFile(resolve(x.Dir, x.Config.Trust))
		if err != nil {
			return &ConfigError{"trust", err.Error()}
		}
		if x.roots, err = parseRoots(data); err != nil {
			return &ConfigError{"trust", err.Error()}
		}
	}
	if x.Config.TLSCert != "" {
		c, err := tls.LoadX509KeyPair(resolve(x.Dir, x.Config.TLSCert), resolve(x.Dir, x.Config.TLSKey))
		if err != nil {
			return &ConfigError{"tls", err.Error()}
		}
		x.tls = &c
	}
	if x.Config.SMTP.Addr != "" {
		m, err := newSMTPMailer(x.Dir, x.Config.SMTP)
		if err != nil {
			return err
		}
		x.mail = m
	}
	return nil
}

// NeedsToken reports whether the master key is on a token, which
// UseToken hands over, logged in, before documents are sealed or opened.
func (x *Exchange) NeedsToken() bool { return x.Config.MasterKeyToken != nil }

// UseToken takes the master key on the token: k, the key
// Config.MasterKeyToken names, which must be the one Init sealed its
// check with (another token's, or another key, is ErrMasterKey).
func (x *Exchange) UseToken(k TokenKey) error {
	t := x.Config.MasterKeyToken
	if t == nil {
		return fmt.Errorf("%w: this exchange keeps its master key in a file", ErrMasterKey)
	}
	check, err := base64.StdEncoding.DecodeString(t.Check)
	if err != nil {
		return &ConfigError{"master_key_token", "its check is not base64"}
	}
	got, err := k.Open(check, []byte("check"))
	if err != nil || string(got) != string(tokenCheck) {
		return fmt.Errorf("%w: the token's key %s is not this exchange's (%v)", ErrMasterKey, t.KeyID, err)
	}
	m, err := tokenMasterKey(k)
	if err != nil {
		return err
	}
	x.keys = m
	return nil
}

// Close closes the database.
func (x *Exchange) Close() error { return x.db.Close() }

func (x *Exchange) now() time.Time {
	if x.Now != nil {
		return x.Now()
	}
	return time.Now()
}

// CanMail reports whether the exchange sends e-mail (an SMTP relay is
// configured); without, the operator hands invitation links out.
func (x *Exchange) CanMail() bool { return x.mail != nil }

func parseRoots(data []byte) (*x509.CertPool, error) {
	certs, err := pemCertificates(data)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate in the file")
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// pemCertificates are the PEM certificates in data (other blocks left
// out).
func pemCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return certs, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
}

// withTx is the store's transaction, for the files that hold the logic.
func (x *Exchange) withTx(ctx context.Context, f func(*tx) error) error { return x.db.tx(ctx, f) }
