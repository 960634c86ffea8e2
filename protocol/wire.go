package protocol

import "time"

// Paths served by paraphe-ca.
const (
	ServicePath      = "/.well-known/paraphe"
	ActivationPrefix = "/activation/v1/"
	ESTPrefix        = "/.well-known/est/"
)

// ServiceDocument is served at ServicePath. URLs are absolute.
type ServiceDocument struct {
	Version    int    `json:"version"`
	Name       string `json:"name"`
	Activation string `json:"activation"` // base URL of the activation API, ends with "/"
	EST        string `json:"est"`        // EST base URL, ends with "/"
	TSA        string `json:"tsa,omitempty"`
	OCSP       string `json:"ocsp,omitempty"`
	CRL        string `json:"crl,omitempty"`
	// Endpoints lists every host:port a client must reach; the doctor checks each.
	Endpoints []string `json:"endpoints"`
	// RenewalCoupon is true when simplereenroll requires a coupon code,
	// sent in the CouponHeader.
	RenewalCoupon bool `json:"renewal_coupon"`
	// CertValidityDays is how long the certificates it issues last.
	CertValidityDays int `json:"cert_validity_days"`
	// RenewalOverlapDays is how long a renewed certificate stays valid
	// after its successor is issued (0: it is revoked as superseded at
	// once).
	RenewalOverlapDays int `json:"renewal_overlap_days"`
	// Renewal is the base URL of the holder's side of renewal under an
	// officer's approval (RenewalPrefix), Officers that of the
	// registration officers' API (OfficerPrefix); both end with "/".
	Renewal  string `json:"renewal,omitempty"`
	Officers string `json:"officers,omitempty"`
	// CSC is the base URL of the CSC API v2 of remote signing, ends with
	// "/" (protocol.CSCPrefix); Remote that of its account API
	// (RemotePrefix). Both empty when the CA has no remote signing.
	CSC    string `json:"csc,omitempty"`
	Remote string `json:"remote,omitempty"`
}

// CouponHeader carries the coupon code of a renewal (simplereenroll).
const CouponHeader = "Paraphe-Coupon"

// Reference states.
const (
	StatePending = "pending"
	StateExpired = "expired"
	StateLocked  = "locked"
	StateUsed    = "used"
)

// Questions is the answer to GET {activation}{ref}/questions. It carries no
// personal data: the questions alone.
type Questions struct {
	Reference    string    `json:"reference"`
	State        string    `json:"state"`
	Questions    []string  `json:"questions,omitempty"`
	AttemptsLeft int       `json:"attempts_left"`
	Expires      time.Time `json:"expires"`
}

// Answers is the body of POST {activation}{ref}/answers, in the order of the
// questions.
type Answers struct {
	Answers []string `json:"answers"`
}

// Authorization is the success reply to Answers.
type Authorization struct {
	Code    string    `json:"authorization_code"`
	Expires time.Time `json:"expires"`
	// KeyType is the key the CA expects: "ecdsa-p256" or "rsa-3072".
	KeyType string `json:"key_type"`
}

// Error codes carried in Error.Code; clients branch on them.
const (
	CodeUnknownReference = "unknown_reference"
	CodeExpired          = "reference_expired"
	CodeLocked           = "reference_locked"
	CodeUsed             = "reference_used"
	CodeWrongAnswers     = "wrong_answers"
	CodeBadRequest       = "bad_request"
	CodeUnauthorized     = "unauthorized"
	CodeAuthExpired      = "authorization_expired"
	CodeBadCSR           = "bad_csr"
	CodeRevoked          = "certificate_revoked"
	CodeAlreadyRenewed   = "already_renewed"
	// CodePredecessorRevoked: a certificate this one renewed (directly or
	// further back) is revoked, so this one cannot renew.
	CodePredecessorRevoked = "predecessor_revoked"
	CodeCouponRequired     = "coupon_required"
	CodeCouponInvalid      = "coupon_invalid"
	// CodeRateLimited: too many requests of this kind from this client or
	// on this reference; the Retry-After header says when to try again.
	CodeRateLimited = "rate_limited"
	// CodeBusy: the CA has more answers waiting to be checked than it
	// lets wait (503); nothing was counted, and the Retry-After header
	// says when to try again.
	CodeBusy     = "busy"
	CodeInternal = "internal"
)

// Error is the JSON body of every 4xx/5xx reply of the activation API and of
// EST errors (EST clients that expect text still get a readable body).
type Error struct {
	Code         string `json:"error"`
	Message      string `json:"message"`
	AttemptsLeft *int   `json:"attempts_left,omitempty"`
	// Reason is a registration officer's own words, with
	// CodeRenewalRefused.
	Reason string `json:"reason,omitempty"`
}

// Key types named in Authorization.KeyType and advertised by csrattrs.
const (
	KeyECDSAP256 = "ecdsa-p256"
	KeyRSA3072   = "rsa-3072"
)

// MaxAttempts is how many wrong answer sets lock a reference.
const MaxAttempts = 5
