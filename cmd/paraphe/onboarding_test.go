package main

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/testenv"
)

// The rows of the onboarding guides' troubleshooting table, each
// reproduced, with the doctor's top finding naming the cause. ("Suite not
// installed / no admin rights" is TestDoctorNotInstalledNoAdmin.)

// doctorCause runs paraphe doctor --json and returns its top finding.
func doctorCause(t *testing.T, env []string) (verdict, check, code, fix string) {
	t.Helper()
	r := runBin(t, "", env, "paraphe", "doctor", "--json", "--timeout", "2s")
	var rep struct {
		Verdict string
		Cause   struct{ Check, Code, Fix string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("doctor: %v %+v", err, r)
	}
	return rep.Verdict, rep.Cause.Check, rep.Cause.Code, rep.Cause.Fix
}

// "Activation impossible: the firewall or proxy is not configured to
// communicate with the certification authority": the proxy's rules do not
// let the CA through.
func TestOnboardingActivationBlockedByProxy(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(w.srv.URL, "https://"))
	p, _ := strconv.Atoi(port)
	sq := testenv.StartSquid(t, testenv.SquidOptions{DenyPort: p})
	pol := testenv.PolicyWith(t, w.srv.Policy, func(m map[string]any) { m["proxy"] = sq.URL })
	w.env = []string{"PARAPHE_HOME=" + w.home, "PARAPHE_POLICY=" + pol}
	r := w.activate(t, w.enroll(t), w.answersFile(t, testenv.Answers...))
	if r.code != explain.ExitUnreachable || !strings.Contains(r.stderr, "refused the connection to the certification authority (403") ||
		!strings.Contains(r.stderr, "allow list") {
		t.Fatalf("activation through a proxy that denies the CA: %+v", r)
	}
	if verdict, check, code, fix := doctorCause(t, w.env); verdict != "blocked" || check != "proxy" || code != "proxy_denied" || fix != "allow_ca_on_proxy" {
		t.Fatalf("doctor: %s %s %s %s", verdict, check, code, fix)
	}
}

// "Installation takes 20 minutes: the firewall or proxy is not configured
// to communicate with the certification authority": packets to the CA are
// dropped, so every attempt waits for a timeout. The doctor (which the
// installation check runs) is bounded by its timeout and names the
// firewall.
func TestOnboardingSlowBecauseFirewallDrops(t *testing.T) {
	w := newWorld(t)
	addr := testenv.Blackhole(t)
	pol := testenv.PolicyWith(t, w.srv.Policy, func(m map[string]any) { m["ca"].(map[string]any)["url"] = "https://" + addr })
	env := []string{"PARAPHE_HOME=" + w.home, "PARAPHE_POLICY=" + pol}
	if verdict, check, code, fix := doctorCause(t, env); verdict != "blocked" || check != "tcp" || code != "filtered" || fix != "open_port" {
		t.Fatalf("doctor: %s %s %s %s", verdict, check, code, fix)
	}
}
