package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/protocol"
)

// Files of a CA folder.
const (
	fileConfig     = "config.json"
	fileRootCert   = "root.pem"
	fileRootKey    = "root.key"
	fileIssuerCert = "issuing.pem"
	fileIssuerKey  = "issuing.key"
	fileTLSCert    = "tls.pem"
	fileTLSKey     = "tls.key"
	fileDB         = "ca.db"
)

// Config is the CA's own settings, kept in config.json.
type Config struct {
	Name string `json:"name"`
	URL  string `json:"url"` // public URL clients are given
	// ValidationURL is the plain-HTTP address of the OCSP responder, the CRLs
	// and the CA certificates, as RFC 5280 and 6960 recommend: validators
	// (NSS, pdfcpu…) fetch revocation data over http://.
	ValidationURL      string `json:"validation_url"`
	KeyType            string `json:"key_type"`             // the CA's own keys
	HolderKeyType      string `json:"holder_key_type"`      // keys holders must generate
	ReferenceTTLDays   int    `json:"reference_ttl_days"`   // how long a reference code lives
	CertValidityDays   int    `json:"cert_validity_days"`   // holder certificates
	RenewalNeedsCoupon bool   `json:"renewal_needs_coupon"` // simplereenroll requires a coupon
	// RenewalOverlapDays is how long a renewed certificate stays valid
	// after its successor is issued; then it is revoked as superseded.
	// Zero: at once.
	RenewalOverlapDays int `json:"renewal_overlap_days"`
	// RootCRLDays is how far ahead the root's CRL is signed (init, paraphe-ca
	// root crl, revoking what the root issued): the server serves it without
	// the root key until then.
	RootCRLDays int `json:"root_crl_days"`
	// KeyStore holds the issuing CA's, the TSA's and the OCSP responder's
	// keys: KeyStoreFile (empty too) or KeyStorePKCS11, on the token
	// PKCS11 names.
	KeyStore string  `json:"key_store,omitempty"`
	PKCS11   *PKCS11 `json:"pkcs11,omitempty"`
	// Database is where the records are: the SQLite file ca.db in the CA
	// folder unless it names a PostgreSQL database.
	Database DatabaseConfig `json:"database,omitzero"`
	// Remote is remote signing's policy (tries, hashes per
	// authorisation), for holders whose keys are on the CA's token.
	Remote RemotePolicy `json:"remote,omitzero"`
}

// Bounds of Config.RenewalOverlapDays and Config.RootCRLDays.
const (
	maxRenewalOverlap  = 90
	defaultRootCRLDays = 90
	maxRootCRLDays     = 366
)

// InitOptions configure Init. Zero values take defaults.
type InitOptions struct {
	Name          string   // "Paraphe Demo CA"
	URL           string   // "https://localhost:8443"
	ValidationURL string   // "http://localhost:8080"
	KeyType       string   // protocol.KeyECDSAP256 or protocol.KeyRSA3072
	HolderKeyType string   // same choices
	Hosts         []string // extra names and addresses for the TLS certificate
	ReferenceTTL  int      // days, 15
	Validity      int      // days, 1095
	RenewalCoupon bool     // renewals need a coupon code
	// RenewalApproval: renewals need a registration officer's approval
	// (the policy is in the database: Authority.SetRenewalApproval).
	RenewalApproval bool
	// RenewalOverlap is Config.RenewalOverlapDays: 0 (the default) to 90.
	RenewalOverlap int
	// RootDir is the folder of the root CA's key, which the server never
	// reads; empty: a folder "root" in the CA folder (for a demo: a
	// serving CA keeps it elsewhere, offline, and paraphe-ca serve refuses
	// to run beside it).
	RootDir string
	// RootCRLDays is Config.RootCRLDays: 1 to 366, default 90.
	RootCRLDays int
	// KeyStore and PKCS11 are Config's: where the issuing CA's, the
	// TSA's and the OCSP responder's keys are made; for KeyStorePKCS11,
	// Token is the token PKCS11 names, logged in (Init does not close it).
	KeyStore string
	PKCS11   *PKCS11
	Token    Token
	// Database is Config.Database: empty for the SQLite file in the CA
	// folder. A PostgreSQL database must hold no other CA's records.
	Database DatabaseConfig
}

// ErrNoCA is returned by Open on a folder without a CA.
var ErrNoCA = errors.New("ca: the folder holds no CA")

// ErrRenewalOverlap: the renewal overlap is not 0 to 90 days.
var ErrRenewalOverlap = fmt.Errorf("ca: the renewal overlap must be 0 to %d days", maxRenewalOverlap)

// ErrRootCRLDays: the root CRL period is not 1 to 366 days.
var ErrRootCRLDays = fmt.Errorf("ca: the root CRL must be signed 1 to %d days ahead", maxRootCRLDays)

// ErrExists is returned by Init on a folder that already holds a CA.
var ErrExists = errors.New("ca: the folder already holds a CA")

// Init creates a CA in dir: root and issuing CA, TLS identity for the
// server and the database. The machine policy that points clients at it
// is theirs to write (config.PolicyFor, with the root's Fingerprint).
func Init(dir string, o InitOptions) error {
	if _, err := os.Stat(filepath.Join(dir, fileConfig)); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, dir)
	}
	cfg, err := initConfig(o)
	if err != nil {
		return err
	}
	rootDir := o.RootDir
	if rootDir == "" {
		rootDir = filepath.Join(dir, "root")
	}
	if _, err := os.Stat(filepath.Join(rootDir, fileRootKey)); err == nil {
		return fmt.Errorf("%w: %s", ErrRootExists, rootDir)
	}
	keys, err := keyStoreFor(dir, o)
	if err != nil {
		return err
	}
	// The folders hold keys and live authorization codes: the operator's only.
	for _, d := range []string{dir, rootDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("ca: %w", err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("ca: %w", err)
		}
	}
	// The database first: one that holds another CA's records stops
	// init before it writes anything.
	db, err := openEmptyStore(dir, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	u, _ := url.Parse(cfg.URL)
	hosts := append([]string{"localhost", "127.0.0.1", "::1", u.Hostname()}, o.Hosts...)
	now := time.Now()
	h, err := newHierarchy(cfg, rootDir, hosts, keys, now)
	if err != nil {
		return err
	}
	if err := h.write(dir, keys); err != nil {
		h.discard(keys)
		return err
	}
	if err := newOfficerKey(dir); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("ca: %w", err)
	}
	if err := h.record(db, dir, cfg, o.RenewalApproval, now); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(cfg, "", "  ")
	return atomicfile.Write(filepath.Join(dir, fileConfig), append(data, '\n'), 0o600)
}

// initConfig is the configuration Init writes: o, with defaults for what
// it leaves out, validated.
func initConfig(o InitOptions) (Config, error) {
	cfg := Config{Name: o.Name, URL: o.URL, ValidationURL: o.ValidationURL, KeyType: o.KeyType, HolderKeyType: o.HolderKeyType,
		ReferenceTTLDays: o.ReferenceTTL, CertValidityDays: o.Validity, RenewalNeedsCoupon: o.RenewalCoupon,
		RenewalOverlapDays: o.RenewalOverlap, RootCRLDays: o.RootCRLDays, KeyStore: o.KeyStore, PKCS11: o.PKCS11,
		Database: o.Database}
	if cfg.Name == "" {
		cfg.Name = "Paraphe Demo CA"
	}
	if cfg.URL == "" {
		cfg.URL = "https://localhost:8443"
	}
	if cfg.ValidationURL == "" {
		if u, err := url.Parse(cfg.URL); err == nil {
			cfg.ValidationURL = "http://" + net.JoinHostPort(u.Hostname(), "8080")
		}
	}
	if cfg.KeyType == "" {
		cfg.KeyType = protocol.KeyECDSAP256
	}
	if cfg.HolderKeyType == "" {
		cfg.HolderKeyType = protocol.KeyECDSAP256
	}
	if cfg.ReferenceTTLDays == 0 {
		cfg.ReferenceTTLDays = 15
	}
	if cfg.CertValidityDays == 0 {
		cfg.CertValidityDays = 1095
	}
	if cfg.RootCRLDays == 0 {
		cfg.RootCRLDays = defaultRootCRLDays
	}
	return cfg, cfg.validate()
}

// hierarchy is a new CA's certificates and keys: the root (whose key goes
// offline in its own folder), the issuing CA, the server's TLS identity
// and the time-stamping unit, each issued by the root, and the OCSP
// responder, issued by the issuing CA. The issuing CA's, the TSA's and
// the responder's keys are made in the CA's key store.
type hierarchy struct {
	root                               *Root
	issuer, tls, tsa, ocsp             *x509.Certificate
	issuerKey, tlsKey, tsaKey, ocspKey crypto.Signer
}

func newHierarchy(cfg Config, rootDir string, hosts []string, keys keyStore, now time.Time) (*hierarchy, error) {
	rootKey, err := newKey(cfg.KeyType)
	if err != nil {
		return nil, err
	}
	rootCert, err := sign(&x509.Certificate{
		Subject:               pkix.Name{CommonName: cfg.Name + " Root", Organization: []string{cfg.Name}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 1,
	}, nil, rootKey.Public(), rootKey)
	if err != nil {
		return nil, err
	}
	h := &hierarchy{root: &Root{Dir: rootDir, Cert: rootCert, key: rootKey}}
	made := false
	defer func() {
		if !made {
			h.discard(keys)
		}
	}()
	if h.issuerKey, err = keys.generate(cfg.KeyType); err != nil {
		return nil, err
	}
	h.issuer, err = sign(&x509.Certificate{
		Subject:               pkix.Name{CommonName: cfg.Name + " Issuing CA", Organization: []string{cfg.Name}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 0, MaxPathLenZero: true,
		CRLDistributionPoints: []string{strings.TrimRight(cfg.ValidationURL, "/") + pathRootCRL},
		IssuingCertificateURL: []string{strings.TrimRight(cfg.ValidationURL, "/") + pathRootCer},
	}, rootCert, h.issuerKey.Public(), rootKey)
	if err != nil {
		return nil, err
	}
	if h.tls, h.tlsKey, err = newTLS(cfg, hosts, h.root); err != nil {
		return nil, err
	}
	if h.tsa, h.tsaKey, err = newTSA(cfg, h.root, keys); err != nil {
		return nil, err
	}
	if h.ocspKey, err = keys.generate(cfg.KeyType); err != nil {
		return nil, err
	}
	if h.ocsp, err = newResponderCert(cfg, h.issuer, h.issuerKey, h.ocspKey.Public(), now); err != nil {
		return nil, err
	}
	made = true
	return h, nil
}

// discard removes from the key store the keys made for h.
func (h *hierarchy) discard(keys keyStore) {
	for _, k := range []crypto.Signer{h.issuerKey, h.tsaKey, h.ocspKey} {
		if k != nil {
			keys.discard(k)
		}
	}
}

// write puts the hierarchy's files in dir, and the root's key and
// certificate in the root's folder; the key store keeps the others.
func (h *hierarchy) write(dir string, keys keyStore) error {
	rootDir, rootCert := h.root.Dir, h.root.Cert
	for _, f := range []struct {
		dir, name string
		data      []byte
		perm      os.FileMode
	}{
		{rootDir, fileRootCert, pemCert(rootCert), 0o644},
		{rootDir, fileRootKey, pemKey(h.root.key), 0o600},
		{dir, fileRootCert, pemCert(rootCert), 0o644},
		{dir, fileIssuerCert, pemCert(h.issuer), 0o644},
		{dir, fileTLSCert, append(pemCert(h.tls), pemCert(rootCert)...), 0o644},
		{dir, fileTLSKey, pemKey(h.tlsKey), 0o600},
		{dir, fileTSACert, pemCert(h.tsa), 0o644},
		{dir, fileOCSPCert, pemCert(h.ocsp), 0o644},
	} {
		if err := atomicfile.Write(filepath.Join(f.dir, f.name), f.data, f.perm); err != nil {
			return fmt.Errorf("ca: %w", err)
		}
	}
	for _, k := range []struct {
		name string
		key  crypto.Signer
		cert *x509.Certificate
	}{{fileIssuerKey, h.issuerKey, h.issuer}, {fileTSAKey, h.tsaKey, h.tsa}, {fileOCSPKey, h.ocspKey, h.ocsp}} {
		if err := keys.keep(k.name, k.key, k.cert); err != nil {
			return err
		}
	}
	return nil
}

// record records in db what the root issued, and writes the root CRL
// into dir, signed ahead: the server serves it without the key.
func (h *hierarchy) record(db *store, dir string, cfg Config, approval bool, now time.Time) error {
	err := db.tx(context.Background(), func(tx *dbTx) error {
		for role, c := range map[string]*x509.Certificate{RoleIssuing: h.issuer, RoleTLS: h.tls, RoleTSA: h.tsa} {
			if err := recordRootIssued(tx, role, c); err != nil {
				return err
			}
		}
		if err := tx.audit(EventCreated, "ca", map[string]string{"name": cfg.Name, "url": cfg.URL,
			"root": Fingerprint(h.root.Cert), "issuing": serialHex(h.issuer.SerialNumber)}); err != nil {
			return err
		}
		if approval {
			return setRenewalApproval(tx, true)
		}
		return nil
	})
	if err != nil {
		return err
	}
	crl, err := signRootCRL(db, h.root, cfg.RootCRLDays, big.NewInt(now.Unix()), now)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, fileRootCRL), crl, 0o644); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	return nil
}

// newTLS issues the server's TLS certificate for hosts.
func newTLS(cfg Config, hosts []string, root *Root) (*x509.Certificate, crypto.Signer, error) {
	key, err := newKey(protocol.KeyECDSAP256)
	if err != nil {
		return nil, nil, err
	}
	u, _ := url.Parse(cfg.URL)
	now := time.Now()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: u.Hostname(), Organization: []string{cfg.Name}},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.AddDate(2, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// The root's CRL lists it when it is revoked.
		CRLDistributionPoints: []string{strings.TrimRight(cfg.ValidationURL, "/") + pathRootCRL},
	}
	seen := map[string]bool{}
	for _, h := range hosts {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	cert, err := sign(tmpl, root.Cert, key.Public(), root.key)
	return cert, key, err
}

func (c *Config) validate() error {
	for _, kt := range []string{c.KeyType, c.HolderKeyType} {
		if kt != protocol.KeyECDSAP256 && kt != protocol.KeyRSA3072 {
			return fmt.Errorf("ca: key type %q is not %s or %s", kt, protocol.KeyECDSAP256, protocol.KeyRSA3072)
		}
	}
	if u, err := url.Parse(c.URL); err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("ca: URL %q is not an https:// URL", c.URL)
	}
	if u, err := url.Parse(c.ValidationURL); err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("ca: validation URL %q is not an http:// URL", c.ValidationURL)
	}
	if c.ReferenceTTLDays < 1 || c.CertValidityDays < 1 {
		return errors.New("ca: reference lifetime and certificate validity must be at least one day")
	}
	if c.RenewalOverlapDays < 0 || c.RenewalOverlapDays > maxRenewalOverlap {
		return fmt.Errorf("%w: %d days", ErrRenewalOverlap, c.RenewalOverlapDays)
	}
	if c.RootCRLDays < 1 || c.RootCRLDays > maxRootCRLDays {
		return fmt.Errorf("%w: %d days", ErrRootCRLDays, c.RootCRLDays)
	}
	switch c.KeyStore {
	case "", KeyStoreFile:
	case KeyStorePKCS11:
		if c.PKCS11 == nil || c.PKCS11.Module == "" {
			return fmt.Errorf("%w: no PKCS#11 module", ErrKeyStore)
		}
	default:
		return fmt.Errorf("%w: %q", ErrKeyStore, c.KeyStore)
	}
	if err := c.Remote.validate(); err != nil {
		return err
	}
	return c.Database.Validate()
}

// Fingerprint is the SHA-256 of a certificate, in hex, as policies name anchors.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

func newKey(keyType string) (crypto.Signer, error) {
	switch keyType {
	case protocol.KeyECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case protocol.KeyRSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	}
	return nil, fmt.Errorf("ca: unknown key type %q", keyType)
}

func randomSerial() *big.Int {
	b := make([]byte, 16)
	rand.Read(b)
	b[0] &= 0x7f
	b[0] |= 0x01 // never zero, never negative, always 16 bytes
	return new(big.Int).SetBytes(b)
}

// sign issues tmpl for pub; parent nil means self-signed.
func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	tmpl.SerialNumber = randomSerial()
	if tmpl.IsCA {
		spki, _ := x509.MarshalPKIXPublicKey(pub)
		sum := sha1.Sum(spki)
		tmpl.SubjectKeyId = sum[:]
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("ca: signing certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func pemKey(k crypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err) // only ECDSA and RSA keys reach here
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// OIDs of the holder certificate.
var (
	oidTitle = asn1.ObjectIdentifier{2, 5, 4, 12}
	// organizationIdentifier (X.520), as ETSI EN 319 412-1 uses it.
	oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}
	oidDocumentSigning        = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36} // RFC 9336
)

// Authority is an opened CA folder.
type Authority struct {
	Dir       string
	Config    Config
	Root      *x509.Certificate
	Issuer    *x509.Certificate
	issuerKey crypto.Signer
	// issuerIDs are the issuing CA's hashes as OCSP requests carry them.
	issuerIDs map[crypto.Hash]issuerID
	root      *Root // set by UseRoot, for the commands that need it
	tsaCert   *x509.Certificate
	tsaKey    crypto.Signer
	// keys is where the issuing CA's, the TSA's and the responder's keys
	// are: files, a token, or a token not unlocked yet.
	keys keyStore
	// responder signs OCSP answers; nil in a folder made before it.
	responder   atomic.Pointer[responder]
	responderMu sync.Mutex // one renewal at a time
	ocspCache   *ocspCache
	metrics     *metrics
	draining    atomic.Bool // Serve is stopping: not ready
	TLS         tls.Certificate
	db          *store
	// answers bounds the Argon2id checks made at once and the requests
	// waiting for one.
	answers *answerQueue
	// answerChecks counts the answers hashed by Answer (tests read it).
	answerChecks atomic.Int64
	// answerLimit bounds answer requests per client address.
	answerLimit *addressLimiter
	// clock is remote signing's time (TOTP steps, tokens' lifetimes);
	// nil is time.Now (tests set it).
	clock func() time.Time

	// SMS, when not nil, sends remote holders one-time passwords by SMS
	// (sms.go); nil, the default, keeps them TOTP only. Paraphe builds in
	// no sender.
	SMS SMSSender

	// MaxConnections bounds the connections each listener of Serve
	// serves at once; the ones beyond are closed as soon as they are
	// accepted. Zero means DefaultMaxConnections.
	MaxConnections int
	// AnswerQueue bounds the answer requests that wait for a hashing
	// slot (one per CPU); one more is refused at once with 503 and
	// Retry-After. Zero means AnswerQueuePerCPU per slot.
	AnswerQueue int
	// Admin, when not nil, is where Serve also serves AdminHandler:
	// metrics, health and readiness. It has no authentication: keep it
	// on loopback or a private network.
	Admin net.Listener
}

// DefaultMaxConnections is the connection limit of each listener when
// Authority.MaxConnections is zero.
const DefaultMaxConnections = 1024

// AnswerQueuePerCPU is how many answer requests may wait per hashing slot
// when Authority.AnswerQueue is zero: at about 70 ms of CPU a check, the
// line clears in a little over a second.
const AnswerQueuePerCPU = 16

// answerDepth is the bound of the line of answer requests.
func (a *Authority) answerDepth() int {
	if a.AnswerQueue > 0 {
		return a.AnswerQueue
	}
	return AnswerQueuePerCPU * a.answers.slots
}

// Open loads the CA in dir.
func Open(dir string) (*Authority, error) {
	a := &Authority{Dir: dir, answers: newAnswerQueue(runtime.NumCPU()),
		answerLimit: newAddressLimiter(addressBurst, addressRefill), ocspCache: newOCSPCache()}
	var err error
	if a.Config, err = readConfig(dir); err != nil {
		return nil, err
	}
	if a.Root, err = readCert(filepath.Join(dir, fileRootCert)); err != nil {
		return nil, err
	}
	if a.Issuer, err = readCert(filepath.Join(dir, fileIssuerCert)); err != nil {
		return nil, err
	}
	a.issuerIDs = issuerIDsOf(a.Issuer)
	if err := a.loadServices(); err != nil {
		return nil, err
	}
	ocspCert, err := loadResponderCert(dir)
	if err != nil {
		return nil, err
	}
	a.keys = fileKeys{dir}
	if a.NeedsToken() {
		a.keys = lockedKeys{}
	}
	if err := a.openKeys(a.keys, ocspCert); err != nil {
		return nil, err
	}
	if a.TLS, err = tls.LoadX509KeyPair(filepath.Join(dir, fileTLSCert), filepath.Join(dir, fileTLSKey)); err != nil {
		return nil, fmt.Errorf("ca: TLS identity: %w", err)
	}
	if a.db, err = openStore(context.Background(), dir, a.Config.Database); err != nil {
		return nil, err
	}
	if err := a.recordCurrent(); err != nil {
		a.db.Close()
		return nil, err
	}
	a.metrics = newMetrics(a)
	return a, nil
}

// Close closes the database, and logs out of the token that holds the
// keys.
func (a *Authority) Close() error {
	a.keys.close()
	return a.db.Close()
}

// Ping reports whether the database answers (for a readiness check).
func (a *Authority) Ping(ctx context.Context) error { return a.db.Ping(ctx) }

// readConfig reads the config.json of the CA in dir.
func readConfig(dir string) (Config, error) {
	var cfg Config
	data, err := os.ReadFile(filepath.Join(dir, fileConfig))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return cfg, fmt.Errorf("%w: %s", ErrNoCA, dir)
		}
		return cfg, fmt.Errorf("ca: %w", err)
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg, fmt.Errorf("ca: %s: %w", fileConfig, err)
	}
	if cfg.ValidationURL == "" { // a folder made before the setting existed
		if u, err := url.Parse(cfg.URL); err == nil {
			cfg.ValidationURL = "http://" + net.JoinHostPort(u.Hostname(), "8080")
		}
	}
	if cfg.RootCRLDays == 0 { // a folder made before the setting existed
		cfg.RootCRLDays = defaultRootCRLDays
	}
	return cfg, cfg.validate()
}

func readCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("ca: %s holds no certificate", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", path, err)
	}
	return c, nil
}

func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("ca: %s holds no key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("ca: %s is not a signing key", path)
	}
	return s, nil
}

// issue builds the holder certificate for pub. The subject comes from the
// holder record, never from the CSR.
func (a *Authority) issue(h *Holder, pub crypto.PublicKey, now time.Time) (*x509.Certificate, error) {
	notAfter := now.AddDate(0, 0, a.Config.CertValidityDays)
	if notAfter.After(a.Issuer.NotAfter) {
		notAfter = a.Issuer.NotAfter
	}
	subject := pkix.Name{
		CommonName:   h.Name,
		SerialNumber: h.MemberNumber,
		ExtraNames:   []pkix.AttributeTypeAndValue{{Type: oidTitle, Value: h.Title}},
	}
	if h.Organization != "" {
		subject.Organization = []string{h.Organization}
	}
	if h.Seal {
		// ETSI EN 319 412-3 §4.2.1: the organisation's name (as its
		// common name too), identifier and country; no person.
		subject = pkix.Name{CommonName: h.Organization, Organization: []string{h.Organization}, Country: []string{h.Country}}
		if h.OrganizationID != "" {
			subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: oidOrganizationIdentifier, Value: h.OrganizationID}}
		}
	}
	tmpl := &x509.Certificate{
		Subject:               subject,
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{oidDocumentSigning},
		BasicConstraintsValid: true,
	}
	if h.Email != "" {
		tmpl.EmailAddresses = []string{h.Email}
	}
	tmpl.OCSPServer = []string{a.validationURL(pathOCSP)}
	tmpl.IssuingCertificateURL = []string{a.validationURL(pathIssuingCer)}
	tmpl.CRLDistributionPoints = []string{a.validationURL(pathIssuingCRL)}
	return sign(tmpl, a.Issuer, pub, a.issuerKey)
}
