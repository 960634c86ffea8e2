package protocol

import "time"

// Renewal under a registration officer's approval. A CA's policy may
// require that a registration officer (RAO) confirm a holder still holds
// their title before their certificate is renewed. The holder's side,
// authenticated by the current certificate (TLS client certificate), as
// simplereenroll is:
//
//	GET  {RenewalPrefix}details   what the successor will carry, and the request's state
//	POST {RenewalPrefix}request   ask for the renewal: 202 while it awaits approval
//
// then simplereenroll once approved. simplereenroll itself, without an
// approved request, makes one and answers 202 with Retry-After and the
// request (RFC 7030 §4.2.3): an EST client that resubmits its request
// later gets its certificate once an officer approves.
//
// The officer's side, over the same HTTPS, in JSON: a login with password
// and one-time code (TOTP, RFC 6238) gives a bearer token for
// OfficerSessionTTL; with it (Authorization: Bearer TOKEN)
//
//	POST {OfficerPrefix}login                   OfficerLogin → OfficerSession
//	POST {OfficerPrefix}logout                  ends the session
//	GET  {OfficerPrefix}requests                the requests awaiting approval: PendingRenewals
//	POST {OfficerPrefix}requests/{id}/approve   → PendingRenewal (approved)
//	POST {OfficerPrefix}requests/{id}/refuse    RenewalDecision (the reason) → PendingRenewal (refused)
const (
	RenewalPrefix = "/renewal/v1/"
	OfficerPrefix = "/rao/v1/"
)

// ConfirmedHeader carries, on a renewal request and on simplereenroll,
// the Digest of the RenewalDetails the holder was shown and confirmed:
// the CA records that they confirmed, and refuses with
// CodeDetailsChanged when its record no longer gives that digest.
const ConfirmedHeader = "Paraphe-Confirmed-Details"

// States of a renewal request.
const (
	RenewalAwaiting = "awaiting_approval"
	RenewalApproved = "approved"
	RenewalRefused  = "refused"
	RenewalDone     = "renewed" // the successor was issued
	// RenewalNotNeeded: the CA's policy needs no approval (a request
	// answer of ID 0).
	RenewalNotNeeded = "not_required"
)

// RenewalDetails is what a renewed certificate will carry, from the CA's
// record of the holder (not from the current certificate), for the holder
// to confirm before any renewal; and whether the renewal waits for an
// officer.
type RenewalDetails struct {
	Name         string `json:"name,omitempty"`
	Title        string `json:"title,omitempty"`
	MemberNumber string `json:"member_number,omitempty"`
	// Organization is the professional order, or a seal's organisation.
	Organization string `json:"organization"`
	Email        string `json:"email,omitempty"`
	// A seal names its organisation, its identifier and its country.
	Seal           bool   `json:"seal,omitempty"`
	OrganizationID string `json:"organization_identifier,omitempty"`
	Country        string `json:"country,omitempty"`
	// Digest identifies these details; the holder's client sends it back
	// in ConfirmedHeader.
	Digest string `json:"digest"`
	// ApprovalRequired: the CA renews only what an officer approved.
	ApprovalRequired bool `json:"approval_required"`
	// Request is the certificate's renewal request, if there is one.
	Request *RenewalRequest `json:"request,omitempty"`
}

// RenewalRequest is a holder's renewal request as the holder sees it.
type RenewalRequest struct {
	ID      int64      `json:"id"`
	State   string     `json:"state"` // Renewal*
	Created time.Time  `json:"created"`
	Decided *time.Time `json:"decided,omitempty"`
	// Reason is the officer's, when they refused it: their own words.
	Reason string `json:"reason,omitempty"`
}

// OfficerLogin is the body of POST {OfficerPrefix}login.
type OfficerLogin struct {
	Officer  string `json:"officer"`
	Password string `json:"password"`
	Code     string `json:"code"` // the authenticator's one-time code
}

// OfficerSessionTTL is how long an officer's session lasts.
const OfficerSessionTTL = 30 * time.Minute

// OfficerSession is the answer to a login.
type OfficerSession struct {
	Officer string    `json:"officer"`
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// PendingRenewal is a renewal request as an officer sees it: the holder's
// details the successor will carry, the certificate to renew.
type PendingRenewal struct {
	RenewalRequest
	Holder   int64          `json:"holder"`
	Details  RenewalDetails `json:"details"`
	Serial   string         `json:"serial"`    // the certificate to renew
	NotAfter time.Time      `json:"not_after"` // when it expires
	// Confirmed: the holder confirmed the details when asking.
	Confirmed bool   `json:"confirmed"`
	Officer   string `json:"officer,omitempty"` // who decided
}

// PendingRenewals is the answer to GET {OfficerPrefix}requests.
type PendingRenewals struct {
	Requests []PendingRenewal `json:"requests"`
}

// RenewalDecision is the body of a refusal: its reason, for the holder.
type RenewalDecision struct {
	Reason string `json:"reason"`
}

// MaxReasonLength bounds a refusal's reason, in characters.
const MaxReasonLength = 500

// Error codes of renewal under approval and of the officers' API.
const (
	// CodeAwaitingApproval: the renewal request waits for an officer.
	CodeAwaitingApproval = "awaiting_approval"
	// CodeRenewalRefused: an officer refused the renewal; Error.Reason
	// is theirs.
	CodeRenewalRefused = "renewal_refused"
	// CodeDetailsChanged: the CA's record changed since the holder
	// confirmed it.
	CodeDetailsChanged = "details_changed"
	// CodeOfficerDenied: wrong officer name, password or one-time code
	// (which one is not said); Error.AttemptsLeft before the lock.
	CodeOfficerDenied = "officer_denied"
	// CodeOfficerLocked: the officer's account is locked after too many
	// failed logins, or disabled.
	CodeOfficerLocked = "officer_locked"
	// CodeSessionExpired: no valid officer session (log in again).
	CodeSessionExpired = "session_expired"
	// CodeUnknownRequest: no renewal request with that number.
	CodeUnknownRequest = "unknown_request"
	// CodeRequestDecided: the request is no longer awaiting approval.
	CodeRequestDecided = "request_decided"
)
