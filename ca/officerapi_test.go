package ca

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/protocol"
)

// apiCall sends a request to the CA's HTTPS address and returns the
// status, the reply's headers and its body decoded into out (when JSON).
func apiCall(t *testing.T, hc *http.Client, method, url, token string, body []byte, h http.Header, out any) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, data)
		}
	}
	return resp.StatusCode, resp.Header
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// The whole journey over HTTPS: the holder's renewal waits (RFC 7030's
// 202 with Retry-After), an officer's wrong login is refused and
// counted, a right one opens a session that lists, refuses an empty
// reason and approves; the holder's renewal then goes through.
func TestRenewalOverHTTPS(t *testing.T) {
	a := newCA(t, InitOptions{RenewalApproval: true})
	key := p256(t)
	cert, err := activate(t, a, mustEnroll(t, a), key)
	if err != nil {
		t.Fatal(err)
	}
	k := addOfficer(t, a, "alice")
	addr, _ := serveCA(t, a)
	base := "https://" + addr
	officer := testClient(a)
	holderClient := testClient(a)
	holderClient.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{{
		Certificate: [][]byte{cert.Raw, a.Issuer.Raw}, PrivateKey: key}}

	var d protocol.RenewalDetails
	if st, _ := apiCall(t, holderClient, "GET", base+protocol.RenewalPrefix+"details", "", nil, nil, &d); st != 200 || !d.ApprovalRequired || d.Name != holder().Name {
		t.Fatalf("details: %d %+v", st, d)
	}
	if st, _ := apiCall(t, officer, "GET", base+protocol.RenewalPrefix+"details", "", nil, nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("details without a certificate: %d", st)
	}
	confirmed := http.Header{protocol.ConfirmedHeader: {d.Digest}}
	csr := base64.StdEncoding.EncodeToString(csrFor(t, p256(t)).Raw)
	var req protocol.RenewalRequest
	st, h := apiCall(t, holderClient, "POST", base+protocol.ESTPrefix+"simplereenroll", "", []byte(csr), confirmed, &req)
	if st != http.StatusAccepted || h.Get("Retry-After") != "3600" || req.State != protocol.RenewalAwaiting || req.ID != 1 {
		t.Fatalf("simplereenroll awaiting approval: %d %v %+v", st, h, req)
	}
	if st, _ := apiCall(t, holderClient, "POST", base+protocol.RenewalPrefix+"request", "", nil, confirmed, &req); st != http.StatusAccepted || req.ID != 1 {
		t.Fatalf("request again: %d %+v", st, req)
	}

	// A login's reply: a session, or a refusal.
	type loginReply struct {
		protocol.OfficerSession
		protocol.Error
	}
	login := func(password, code string) (int, loginReply) {
		var r loginReply
		st, _ := apiCall(t, officer, "POST", base+protocol.OfficerPrefix+"login", "",
			jsonBody(protocol.OfficerLogin{Officer: "alice", Password: password, Code: code}), nil, &r)
		return st, r
	}
	if st, r := login(officerPassword, wrongCode(t, k)); st != http.StatusUnauthorized || r.Code != protocol.CodeOfficerDenied ||
		r.AttemptsLeft == nil || *r.AttemptsLeft != 4 || r.Token != "" {
		t.Fatalf("wrong code: %d %+v", st, r)
	}
	if st, r := login("not the password", officerCode(t, k, 0)); st != http.StatusUnauthorized || *r.AttemptsLeft != 3 {
		t.Fatalf("wrong password: %d %+v", st, r)
	}
	st, r := login(officerPassword, officerCode(t, k, 0))
	if st != 200 || r.Token == "" || r.Officer != "alice" {
		t.Fatalf("login: %d %+v", st, r)
	}
	token := r.Token
	var e protocol.Error
	st, h = apiCall(t, officer, "GET", base+protocol.OfficerPrefix+"requests", "", nil, nil, &e)
	if st != http.StatusUnauthorized || e.Code != protocol.CodeSessionExpired || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("requests without a session: %d %v %+v", st, h, e)
	}
	var ps protocol.PendingRenewals
	if st, _ := apiCall(t, officer, "GET", base+protocol.OfficerPrefix+"requests", token, nil, nil, &ps); st != 200 ||
		len(ps.Requests) != 1 || ps.Requests[0].Details.MemberNumber != holder().MemberNumber || !ps.Requests[0].Confirmed {
		t.Fatalf("requests: %d %+v", st, ps)
	}
	if st, _ := apiCall(t, officer, "POST", base+protocol.OfficerPrefix+"requests/1/refuse", token,
		jsonBody(protocol.RenewalDecision{}), nil, &e); st != http.StatusBadRequest {
		t.Fatalf("refuse with no reason: %d %+v", st, e)
	}
	if st, _ := apiCall(t, officer, "POST", base+protocol.OfficerPrefix+"requests/9/approve", token, nil, nil, &e); st != http.StatusNotFound || e.Code != protocol.CodeUnknownRequest {
		t.Fatalf("approve an unknown request: %d %+v", st, e)
	}
	var p protocol.PendingRenewal
	if st, _ := apiCall(t, officer, "POST", base+protocol.OfficerPrefix+"requests/1/approve", token, nil, nil, &p); st != 200 || p.State != protocol.RenewalApproved {
		t.Fatalf("approve: %d %+v", st, p)
	}
	if st, _ := apiCall(t, officer, "POST", base+protocol.OfficerPrefix+"requests/1/approve", token, nil, nil, &e); st != http.StatusConflict || e.Code != protocol.CodeRequestDecided {
		t.Fatalf("approve twice: %d %+v", st, e)
	}
	if st, _ := apiCall(t, officer, "POST", base+protocol.OfficerPrefix+"logout", token, nil, nil, nil); st != http.StatusNoContent {
		t.Fatalf("logout: %d", st)
	}
	if st, _ := apiCall(t, officer, "GET", base+protocol.OfficerPrefix+"requests", token, nil, nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("requests after logout: %d", st)
	}

	if st, _ := apiCall(t, holderClient, "POST", base+protocol.RenewalPrefix+"request", "", nil, confirmed, &req); st != 200 || req.State != protocol.RenewalApproved {
		t.Fatalf("request once approved: %d %+v", st, req)
	}
	if st, h := apiCall(t, holderClient, "POST", base+protocol.ESTPrefix+"simplereenroll", "", []byte(csr), confirmed, nil); st != 200 ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/pkcs7-mime") {
		t.Fatalf("simplereenroll once approved: %d %v", st, h)
	}
	if ps, _ := a.PendingRenewals(context.Background()); len(ps) != 0 {
		t.Fatalf("pending after the renewal: %+v", ps)
	}
}
