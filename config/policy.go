package config

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Policy is the machine policy: where the CA is and how to trust it, how to
// reach it, where keys may live and what a PIN must look like. IT writes it;
// users cannot change it. Its zero values are the defaults.
type Policy struct {
	Version   int      `json:"version"`
	CA        CA       `json:"ca"`
	Proxy     string   `json:"proxy,omitempty"`      // "system" (default), "none", "http://host:port", "socks5://host:port", "pac+https://host/proxy.pac"
	KeyStores []Store  `json:"key_stores,omitempty"` // allowed stores, first is the default
	PKCS11    PKCS11   `json:"pkcs11,omitzero"`
	PIN       PINRules `json:"pin_policy,omitzero"`
	// RenewalWarningDays is how long before expiry the suite starts warning (default 30).
	RenewalWarningDays int `json:"renewal_warning_days,omitempty"`
	// UserMay lists what users may set for themselves in their settings.
	UserMay UserMay `json:"user_may,omitzero"`
	// Trust says what verification trusts besides the CA's anchors.
	Trust Trust `json:"trust,omitzero"`
	// BridgePort is the loopback port of the signing bridge web pages
	// talk to (DefaultBridgePort when left out); WebOrigins the exact
	// origins ("https://portal.example") it answers: none by default.
	BridgePort int      `json:"bridge_port,omitempty"`
	WebOrigins []string `json:"web_origins,omitempty"`
	// Exchange is the https:// address of the firm's paraphe-exchange, where
	// paraphe send delivers secure parcels (a command line may name
	// another). Its TLS chain must end at the CA's anchors or at one of the
	// system's roots (clients reach the same server with their browsers),
	// unless it shares the CA's host name, which is held to the anchors.
	Exchange string `json:"exchange,omitempty"`

	// Path is the file the policy was read from.
	Path string `json:"-"`
	// FromUser names the fields taken from the user's settings ("proxy",
	// "pkcs11.module"), as UserMay allows.
	FromUser []string `json:"-"`
}

// UserMay are the settings a policy leaves to users (none by default).
type UserMay struct {
	Proxy        bool `json:"proxy,omitempty"`         // their own proxy setting
	PKCS11Module bool `json:"pkcs11_module,omitempty"` // their own token's PKCS#11 library
	// Trust lets users trust certificates of their own for verification
	// (paraphe trust add); without a machine policy they always may.
	Trust bool `json:"trust,omitempty"`
}

// Trust is what verification trusts besides the CA's anchors: the
// certificates IT deploys, bundles an organisation provides, the EU
// trusted lists and the system's roots.
type Trust struct {
	// Certificates are PEM, DER or PKCS#7 files, or folders of them,
	// whose certificates are trusted anchors.
	Certificates []string `json:"certificates,omitempty"`
	// Bundles are certificate bundles an organisation provides (an export
	// of Adobe's AATL, a .p7b), told apart in the verdict's words.
	Bundles []string `json:"bundles,omitempty"`
	// EUTrustedLists: use the EU trusted lists (true when left out).
	EUTrustedLists *bool `json:"eu_trusted_lists,omitempty"`
	// LOTL is the List of Trusted Lists' address (the EU's when empty);
	// LOTLPins a PEM file of the certificates allowed to sign it (those the
	// Official Journal announces when empty).
	LOTL     string `json:"lotl,omitempty"`
	LOTLPins string `json:"lotl_pins,omitempty"`
	// SystemRoots: the operating system's roots count (true when left out).
	SystemRoots *bool `json:"system_roots,omitempty"`
}

// UsesTrustedLists reports whether verification uses the EU trusted lists.
func (t Trust) UsesTrustedLists() bool { return t.EUTrustedLists == nil || *t.EUTrustedLists }

// UsesSystemRoots reports whether the system's roots count.
func (t Trust) UsesSystemRoots() bool { return t.SystemRoots == nil || *t.SystemRoots }

// CA says where the certification authority is and which roots to trust.
type CA struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url"`
	// Anchors are SHA-256 fingerprints (hex, colons optional) of the root
	// certificates the CA's TLS chain must end at.
	Anchors []string `json:"anchors"`
	// AllowSystemRoots also trusts the operating system's roots for the
	// CA's other services on other hosts (time-stamping, OCSP, CRL), which a
	// TLS-inspecting network may re-sign. The CA's own host is always held to
	// the anchors: whoever sees the answers' reply could otherwise enrol a
	// key of their own with the authorization code.
	AllowSystemRoots bool `json:"allow_system_roots,omitempty"`
}

// PKCS11 configures the token store.
type PKCS11 struct {
	Module string `json:"module,omitempty"` // path of the PKCS#11 library
	Token  string `json:"token,omitempty"`  // default token label
}

// PINRules holds one PIN policy per kind of store.
type PINRules struct {
	Keychain PINPolicy `json:"keychain,omitzero"`
	Token    PINPolicy `json:"token,omitzero"`
}

// Store names a kind of key store, as Policy.KeyStores lists them and
// pkcs.Store.Name says them.
type Store string

// Kinds of key store.
const (
	StoreKeychain Store = "keychain" // the operating system's keychain
	StorePKCS11   Store = "pkcs11"   // a PKCS#11 token
	StoreRemote   Store = "remote"   // the CA's HSM, through the CSC API (remote signing)
)

// Stores are every Store, in the order the policy allows them by default.
var Stores = []Store{StoreKeychain, StorePKCS11, StoreRemote}

// DefaultPolicy returns the values a policy field takes when left out.
func DefaultPolicy() Policy {
	return Policy{
		Version:            1,
		Proxy:              "system",
		KeyStores:          slices.Clone(Stores),
		PIN:                PINRules{Keychain: DefaultPasswordPolicy(), Token: DefaultTokenPolicy()},
		RenewalWarningDays: 30,
		BridgePort:         DefaultBridgePort,
	}
}

// PolicyFor returns the machine policy, as indented JSON with every other
// field at its default, that points clients at the CA at caURL and pins
// its TLS chain to anchors (SHA-256 fingerprints): the policy paraphe-ca
// writes beside a new CA and prints for IT.
func PolicyFor(caURL string, anchors ...string) ([]byte, error) {
	p := DefaultPolicy()
	p.CA = CA{URL: caURL, Anchors: anchors}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(p, "", "  ")
	return append(data, '\n'), err
}

// FieldError reports a policy field that fails validation. Reason is one of
// the Reason constants, so that user interfaces can say it in the user's
// language; Detail is the offending value or the parser's words.
type FieldError struct {
	Path   string // policy file
	Field  string // JSON path, e.g. "ca.url"
	Reason string
	Detail string
}

// Reasons a FieldError carries.
const (
	ReasonSyntax      = "syntax"
	ReasonUnknown     = "unknown_field"
	ReasonRequired    = "required"
	ReasonHTTPS       = "not_https"
	ReasonFingerprint = "bad_fingerprint"
	ReasonValue       = "bad_value"
	ReasonRange       = "out_of_range"
)

func (e *FieldError) Error() string {
	msg := map[string]string{
		ReasonSyntax:      "is not valid JSON",
		ReasonUnknown:     "is not a policy field",
		ReasonRequired:    "is required",
		ReasonHTTPS:       "must be an https:// URL",
		ReasonFingerprint: "must be a SHA-256 fingerprint (64 hex digits)",
		ReasonValue:       "has a value that is not allowed",
		ReasonRange:       "is out of range",
	}[e.Reason]
	s := fmt.Sprintf("config: policy %s: %s %s", e.Path, e.Field, msg)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// LoadPolicy reads and validates the policy at PolicyPath, with what the
// user's settings may change in it (UserMay). It returns ErrNoPolicy when
// there is none, ErrUnconfigured when it is the packages' template that
// names no CA yet, and a *FieldError when it is invalid.
func LoadPolicy() (*Policy, error) {
	p, err := ReadPolicy(PolicyPath())
	if err != nil {
		return nil, err
	}
	if s, err := LoadSettings(); err == nil {
		p.ApplyUser(s)
	}
	return p, nil
}

// ApplyUser takes from the user's settings what the policy lets users set;
// values that would not be valid in the policy are left out.
func (p *Policy) ApplyUser(s Settings) {
	if p.UserMay.Proxy && s.Proxy != "" && CheckProxy(s.Proxy) == nil {
		p.Proxy = s.Proxy
		p.FromUser = append(p.FromUser, "proxy")
	}
	if p.UserMay.PKCS11Module && s.PKCS11Module != "" && filepath.IsAbs(s.PKCS11Module) {
		p.PKCS11.Module = s.PKCS11Module
		p.FromUser = append(p.FromUser, "pkcs11.module")
	}
}

// ReadPolicy reads and validates the policy file at path.
func ReadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (%s)", ErrNoPolicy, path)
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	p, err := ParsePolicy(data)
	var fe *FieldError
	if errors.As(err, &fe) {
		fe.Path = path
	}
	if errors.Is(err, ErrUnconfigured) {
		return nil, fmt.Errorf("%w (%s)", ErrUnconfigured, path)
	}
	if err != nil {
		return nil, err
	}
	p.Path = path
	return p, nil
}

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]+)"`)

// ParsePolicy decodes and validates a policy, filling in defaults. A
// policy that names no CA at all (the template the packages install) is
// ErrUnconfigured once its other fields are found valid.
func ParsePolicy(data []byte) (*Policy, error) {
	p, err := DecodePolicy(data)
	if err != nil {
		return nil, err
	}
	if !p.Configured() {
		probe := *p
		probe.CA = CA{URL: "https://ca.invalid", Anchors: []string{strings.Repeat("0", 64)}}
		if err := probe.Validate(); err != nil {
			return nil, err
		}
		return nil, ErrUnconfigured
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// DecodePolicy decodes a policy and fills in defaults without validating
// it, for tools that change a policy field by field before validating the
// result (paraphe admin policy write).
func DecodePolicy(data []byte) (*Policy, error) {
	p := DefaultPolicy()
	p.KeyStores = nil
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		if m := unknownFieldRE.FindStringSubmatch(err.Error()); m != nil {
			return nil, &FieldError{Field: m[1], Reason: ReasonUnknown}
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			want := te.Type.String()
			if te.Type.Kind() == reflect.String {
				want = "string" // a Store, say, is a string in the file
			}
			return nil, &FieldError{Field: te.Field, Reason: ReasonValue, Detail: "expected " + want}
		}
		return nil, &FieldError{Field: "(file)", Reason: ReasonSyntax, Detail: err.Error()}
	}
	if len(p.KeyStores) == 0 {
		p.KeyStores = DefaultPolicy().KeyStores
	}
	return &p, nil
}

// Configured reports whether the policy names a CA: the template the
// packages install leaves ca.url and ca.anchors empty for IT to fill in.
func (p *Policy) Configured() bool {
	return p.CA.URL != "" || len(p.CA.Anchors) > 0
}

// Validate checks every field and returns the first problem as a *FieldError.
func (p *Policy) Validate() error {
	bad := func(field, reason, detail string) error {
		return &FieldError{Path: p.Path, Field: field, Reason: reason, Detail: detail}
	}
	if p.Version != 1 {
		return bad("version", ReasonValue, fmt.Sprint(p.Version, " (this Paraphe reads version 1)"))
	}
	if p.CA.URL == "" {
		return bad("ca.url", ReasonRequired, "")
	}
	if u, err := url.Parse(p.CA.URL); err != nil || u.Scheme != "https" || u.Host == "" {
		return bad("ca.url", ReasonHTTPS, p.CA.URL)
	}
	if len(p.CA.Anchors) == 0 {
		return bad("ca.anchors", ReasonRequired, "")
	}
	for i, a := range p.CA.Anchors {
		if _, err := ParseFingerprint(a); err != nil {
			return bad(fmt.Sprintf("ca.anchors[%d]", i), ReasonFingerprint, a)
		}
	}
	if err := CheckProxy(p.Proxy); err != nil {
		return bad("proxy", ReasonValue, err.Error())
	}
	for i, s := range p.KeyStores {
		if !slices.Contains(Stores, s) {
			return bad(fmt.Sprintf("key_stores[%d]", i), ReasonValue, string(s)+" (use "+storeNames()+")")
		}
	}
	if p.RenewalWarningDays < 0 || p.RenewalWarningDays > 365 {
		return bad("renewal_warning_days", ReasonRange, fmt.Sprint(p.RenewalWarningDays))
	}
	for i, f := range append(append([]string{}, p.Trust.Certificates...), p.Trust.Bundles...) {
		if !filepath.IsAbs(f) {
			field := fmt.Sprintf("trust.certificates[%d]", i)
			if i >= len(p.Trust.Certificates) {
				field = fmt.Sprintf("trust.bundles[%d]", i-len(p.Trust.Certificates))
			}
			return bad(field, ReasonValue, f+" (an absolute path)")
		}
	}
	if p.Trust.LOTL != "" {
		if u, err := url.Parse(p.Trust.LOTL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return bad("trust.lotl", ReasonValue, p.Trust.LOTL)
		}
	}
	if err := CheckExchange(p.Exchange); err != nil {
		return bad("exchange", ReasonHTTPS, p.Exchange)
	}
	if p.Trust.LOTLPins != "" && !filepath.IsAbs(p.Trust.LOTLPins) {
		return bad("trust.lotl_pins", ReasonValue, p.Trust.LOTLPins+" (an absolute path)")
	}
	if err := p.validateBridge(); err != nil {
		return err
	}
	for name, r := range map[string]PINPolicy{"keychain": p.PIN.Keychain, "token": p.PIN.Token} {
		if field, detail := r.invalid(); field != "" {
			return bad("pin_policy."+name+"."+field, ReasonRange, detail)
		}
	}
	return nil
}

// CheckProxy says whether s is a proxy setting the suite understands:
// "system", "none", an http:// or socks5:// proxy URL without credentials,
// or pac+http(s):// and the address of a PAC file.
func CheckProxy(s string) error {
	switch s {
	case "", "system", "none":
		return nil
	}
	if pac, ok := strings.CutPrefix(s, "pac+"); ok {
		if u, err := url.Parse(pac); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%q is not pac+http(s)://host/file.pac", s)
		} else if u.User != nil {
			return errors.New("credentials do not belong in the policy file")
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not system, none or a proxy URL", s)
	}
	switch u.Scheme {
	case "https":
		// net/http would check the proxy's certificate with the CA's TLS
		// settings; plain HTTP proxies carry TLS inside CONNECT anyway.
		return errors.New("proxies are reached over http:// (the connection to the CA inside is TLS all the same)")
	case "http", "socks5", "socks5h":
		if u.User != nil {
			return errors.New("credentials do not belong in the policy file (they are read from the keychain)")
		}
		return nil
	}
	return fmt.Errorf("proxy scheme %q is not http or socks5", u.Scheme)
}

// CheckExchange says whether s can be an exchange's address: empty (none),
// or an https:// URL with a host and no credentials, query or fragment.
func CheckExchange(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("config: %q is not an https:// address", s)
	}
	return nil
}

// ParseFingerprint reads a SHA-256 fingerprint written as 64 hex digits,
// with or without colons and an optional "sha256:" prefix.
func ParseFingerprint(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
	s = strings.ReplaceAll(s, ":", "")
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("config: %q is not a SHA-256 fingerprint", s)
	}
	return b, nil
}

// storeNames says the Stores for a message: "keychain", "pkcs11" or
// "remote".
func storeNames() string {
	var q []string
	for _, s := range Stores {
		q = append(q, strconv.Quote(string(s)))
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// Allows reports whether the policy allows a key store.
func (p *Policy) Allows(store Store) bool {
	return slices.Contains(p.KeyStores, store)
}

// PINPolicyFor returns the PIN rules of a store. A remote key's are the
// signing service's, whatever the policy: exactly 8 digits.
func (p *Policy) PINPolicyFor(store Store) PINPolicy {
	switch store {
	case StorePKCS11:
		return p.PIN.Token
	case StoreRemote:
		return DefaultTokenPolicy()
	}
	return p.PIN.Keychain
}

// PKCS11Module is the module the policy names, or OpenSC's where it names none.
func (p *Policy) PKCS11Module() string {
	if p.PKCS11.Module != "" {
		return p.PKCS11.Module
	}
	return defaultPKCS11Module()
}
