package activation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/paraphe/paraphe/protocol"
)

// Renewal under a registration officer's approval (protocol/renewal.go):
// before renewing, the holder is shown what the successor will carry
// (RenewalDetails) and confirms it; where the CA's policy needs an
// officer's approval, the renewal waits for it (AwaitingApprovalError),
// and one the officer refused is a *ServerError with
// protocol.CodeRenewalRefused and their reason.

// AwaitingApprovalError: the renewal waits for a registration officer's
// approval; renew again once it is given.
type AwaitingApprovalError struct {
	Request protocol.RenewalRequest
}

func (e *AwaitingApprovalError) Error() string {
	return fmt.Sprintf("activation: renewal request %d awaits a registration officer's approval", e.Request.ID)
}

// renewalURL is the URL of the renewal API's endpoint name.
func (c *Client) renewalURL(ctx context.Context, name string) (string, error) {
	doc, err := c.Discover(ctx)
	if err != nil {
		return "", err
	}
	if doc.Renewal == "" {
		return c.base.JoinPath(protocol.RenewalPrefix, name).String(), nil
	}
	return doc.Renewal + name, nil
}

// RenewalDetails returns what the successor of the client's certificate
// will carry, for the holder to confirm, and whether it needs an
// officer's approval. A renewal that cannot go on is an error: awaiting
// approval still (*AwaitingApprovalError), refused by an officer (a
// *ServerError with protocol.CodeRenewalRefused), or refused by the CA as
// a renewal would be (revoked, already renewed…).
func (c *Client) RenewalDetails(ctx context.Context) (*protocol.RenewalDetails, error) {
	u, err := c.renewalURL(ctx, "details")
	if err != nil {
		return nil, err
	}
	var d protocol.RenewalDetails
	if err := c.getJSON(ctx, u, &d); err != nil {
		return nil, err
	}
	if d.Digest == "" || d.Organization == "" {
		return nil, fmt.Errorf("%w: renewal details", ErrMalformedReply)
	}
	if r := d.Request; r != nil {
		switch r.State {
		case protocol.RenewalAwaiting:
			return nil, &AwaitingApprovalError{Request: *r}
		case protocol.RenewalRefused:
			return nil, &ServerError{Status: http.StatusForbidden, Code: protocol.CodeRenewalRefused, Reason: r.Reason,
				Message: fmt.Sprintf("a registration officer refused renewal request %d", r.ID)}
		}
	}
	return &d, nil
}

// RequestRenewal asks for the renewal of the client's certificate where
// the CA's policy needs an officer's approval, with the digest of the
// details the holder confirmed. It returns the request once approved, or
// an *AwaitingApprovalError.
func (c *Client) RequestRenewal(ctx context.Context, confirmed string) (*protocol.RenewalRequest, error) {
	u, err := c.renewalURL(ctx, "request")
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return nil, fmt.Errorf("activation: %w", err)
	}
	req.Header.Set(protocol.ConfirmedHeader, confirmed)
	body, err := c.do(req, "application/json")
	if err != nil {
		return nil, err
	}
	var r protocol.RenewalRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedReply, err)
	}
	return &r, nil
}
