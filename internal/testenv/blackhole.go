package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
)

var blackholes atomic.Int32

// Blackhole returns an address whose packets are silently lost, as behind
// a firewall that drops them: a host in a network namespace of the test's
// own, reached over a veth pair, that has no address and so never answers.
// Connections to it time out instead of being refused. The namespace and
// the link are removed when the test ends. It needs root (CAP_NET_ADMIN).
func Blackhole(t testing.TB) string {
	t.Helper()
	Require(t, "ip")
	n := int(blackholes.Add(1))
	tag := fmt.Sprintf("px%d%d", os.Getpid()%10000, n)
	ns, host, peer := tag+"ns", tag+"a", tag+"b"
	subnet := fmt.Sprintf("10.231.%d", (os.Getpid()+n)%250)
	run := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %v: %v: %s", args, err, out)
		}
		return nil
	}
	t.Cleanup(func() {
		run("link", "del", host)
		run("netns", "del", ns)
	})
	for _, step := range [][]string{
		{"netns", "add", ns},
		{"link", "add", host, "type", "veth", "peer", "name", peer},
		{"link", "set", peer, "netns", ns},
		{"-n", ns, "link", "set", peer, "up"},
		{"addr", "add", subnet + ".1/30", "dev", host},
		{"link", "set", host, "up"},
	} {
		if err := run(step...); err != nil {
			Missing(t, "cannot make a test network namespace: "+err.Error())
		}
	}
	return subnet + ".2:8443"
}
