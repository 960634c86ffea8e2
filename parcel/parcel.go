// Package parcel is the client side of paraphe-exchange's API: it signs
// in with the user's own credentials (the bearer token lives as long as
// the Client, and SignOut ends it), sends documents, streamed and never
// whole in memory, encrypted end to end to the recipient's certificate
// when asked (CMS, package cms), and lists and downloads parcels. It
// takes its http.Client from its caller, which builds it from the
// machine policy (proxy, trust); it reads no policy itself.
package parcel

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Conditions a caller tells apart (errors.Is); a refusal of the exchange
// is a *ServerError that matches the one its code names.
var (
	ErrBadLogin         = errors.New("parcel: wrong user code, e-mail address or password")
	ErrTOTPRequired     = errors.New("parcel: the account signs in with a two-factor code too")
	ErrWrongCode        = errors.New("parcel: wrong or already used two-factor code")
	ErrLocked           = errors.New("parcel: too many failed sign-ins: locked for now")
	ErrUnknownRecipient = errors.New("parcel: no account has this user code, and it is not an e-mail address")
	ErrNoManager        = errors.New("parcel: the client has no account manager to send to")
	ErrTooLarge         = errors.New("parcel: the parcel is larger than the exchange accepts")
	ErrTooMany          = errors.New("parcel: too many documents in one parcel")
	ErrNotFound         = errors.New("parcel: no such parcel or document")
	ErrGone             = errors.New("parcel: the parcel has expired or was withdrawn")
	ErrInput            = errors.New("parcel: the exchange refused a field")
	ErrSignedOut        = errors.New("parcel: not signed in, or the session has ended")
	// ErrUnreachable wraps what kept the request from an answer (DNS,
	// connection, proxy, TLS): errors.As finds the cause.
	ErrUnreachable = errors.New("parcel: the exchange cannot be reached")
	// ErrBadReply: something answered that is not a paraphe-exchange
	// (a wrong address, a portal page of the network).
	ErrBadReply = errors.New("parcel: the answer is not a paraphe-exchange's")
	// ErrCorrupt: a download's size or SHA-256 is not what the exchange
	// listed.
	ErrCorrupt = errors.New("parcel: the document came down damaged")
)

// ServerError is a refusal of the exchange, as its API says it.
type ServerError struct {
	Status  int
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Field   string    `json:"field"`
	Reason  string    `json:"reason"` // an input's or a certificate's problem, as the exchange's catalogue names it
	Detail  string    `json:"detail"` // a certificate problem's detail (a date, a usage)
	Until   time.Time `json:"until"`  // a lock's end
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("parcel: the exchange refused (%d %s): %s", e.Status, e.Code, e.Message)
}

var codes = map[string]error{
	"bad_login":     ErrBadLogin,
	"totp_required": ErrTOTPRequired,
	"wrong_code":    ErrWrongCode,
	"locked":        ErrLocked,
	"no_manager":    ErrNoManager,
	"too_large":     ErrTooLarge,
	"too_many":      ErrTooMany,
	"not_found":     ErrNotFound,
	"gone":          ErrGone,
	"unauthorized":  ErrSignedOut,
	"input":         ErrInput,
}

// Is matches the condition the code names; an input refusal of the
// recipient (no such account, not an address) is ErrUnknownRecipient.
func (e *ServerError) Is(target error) bool {
	if target == ErrUnknownRecipient {
		return e.Code == "input" && e.Field == "recipient" && e.Reason != "self"
	}
	return codes[e.Code] == target && target != nil
}

// Client talks to one exchange.
type Client struct {
	base *url.URL
	hc   *http.Client
	tok  string
	// Account and Limits are the signed-in user's, from SignIn.
	Account Account
	Limits  Limits
}

// Account is a user of the exchange.
type Account struct {
	Code  string `json:"code"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Kind  string `json:"kind"` // firm or client
}

// Limits are what the exchange accepts in one parcel.
type Limits struct {
	MaxBytes     int64 `json:"max_bytes"`
	MaxDocuments int   `json:"max_documents"`
	DefaultDays  int   `json:"default_days"`
	MaxDays      int   `json:"max_days"`
}

// New returns a client of the exchange at base (https://…), whose
// requests go through hc.
func New(base string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("parcel: %q is not an exchange's https:// address", base)
	}
	return &Client{base: u, hc: hc}, nil
}

// URL is the exchange's address.
func (c *Client) URL() string { return c.base.String() }

// do sends a request to path and decodes a JSON answer into out (nil:
// none expected); a refusal comes back as a *ServerError.
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	resp, err := c.request(ctx, method, path, body, contentType)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decode(resp, out)
}

// request sends a request to path with the token, and returns the
// answer, whatever its status; no answer is ErrUnreachable.
func (c *Client) request(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return nil, fmt.Errorf("parcel: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.tok != "" {
		req.Header.Set("Authorization", "Bearer "+c.tok)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return resp, nil
}

// decode reads an answer of the API: out on success, a *ServerError on
// a refusal, ErrBadReply when it is not the API speaking.
func decode(resp *http.Response, out any) error {
	isJSON := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	if resp.StatusCode >= 300 {
		e := &ServerError{Status: resp.StatusCode}
		if !isJSON || json.Unmarshal(data, e) != nil || e.Code == "" {
			return fmt.Errorf("%w: HTTP %s", ErrBadReply, resp.Status)
		}
		return e
	}
	if out == nil {
		return nil
	}
	if !isJSON {
		return fmt.Errorf("%w: %s", ErrBadReply, resp.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: %w", ErrBadReply, err)
	}
	return nil
}

// SignIn gets a token with the user's code or e-mail address, password
// and, for an account that has one, its two-factor code (ErrTOTPRequired
// when it is due and not given).
func (c *Client) SignIn(ctx context.Context, login, password, totp string) error {
	body, _ := json.Marshal(map[string]string{"login": login, "password": password, "totp": totp})
	var out struct {
		Token   string    `json:"token"`
		Expires time.Time `json:"expires"`
		User    Account   `json:"user"`
		Limits  Limits    `json:"limits"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/token", bytes.NewReader(body), "application/json", &out); err != nil {
		return err
	}
	if out.Token == "" {
		return fmt.Errorf("%w: no token", ErrBadReply)
	}
	c.tok, c.Account, c.Limits = out.Token, out.User, out.Limits
	return nil
}

// SignOut ends the token's session on the exchange.
func (c *Client) SignOut(ctx context.Context) error {
	if c.tok == "" {
		return nil
	}
	err := c.do(ctx, http.MethodDelete, "/api/v1/token", nil, "", nil)
	c.tok = ""
	return err
}

// Recipient is who a parcel goes to.
type Recipient struct {
	// Account is the recipient's; nil when New is set.
	Account *Account
	// New is the address of a client the exchange would invite.
	New string
	// Chain is the encryption certificate the recipient registered and
	// its chain, leaf first (nil for none): the caller judges whether
	// to trust it.
	Chain []*x509.Certificate
}

// Recipient asks who a parcel to login (a user code or e-mail address)
// goes to: a client's goes to their account manager whatever login is.
func (c *Client) Recipient(ctx context.Context, login string) (*Recipient, error) {
	var out struct {
		Recipient   *Account `json:"recipient"`
		New         string   `json:"new"`
		Certificate *struct {
			Chain [][]byte `json:"chain"`
		} `json:"certificate"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/recipient?login="+url.QueryEscape(login), nil, "", &out); err != nil {
		return nil, err
	}
	r := &Recipient{Account: out.Recipient, New: out.New}
	if out.Certificate != nil {
		for _, der := range out.Certificate.Chain {
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("%w: the recipient's certificate: %w", ErrBadReply, err)
			}
			r.Chain = append(r.Chain, cert)
		}
	}
	if r.Account == nil && r.New == "" {
		return nil, fmt.Errorf("%w: no recipient", ErrBadReply)
	}
	return r, nil
}

// RegisterCertificate registers the user's encryption certificate (DER,
// its chain after it), for senders to encrypt to.
func (c *Client) RegisterCertificate(ctx context.Context, chain []*x509.Certificate) error {
	var der []byte
	for _, cert := range chain {
		der = append(der, cert.Raw...)
	}
	return c.do(ctx, http.MethodPut, "/api/v1/certificate", bytes.NewReader(der), "application/pkix-cert", &struct{}{})
}
