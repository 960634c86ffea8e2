//go:build linux

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/protocol"
)

// activations is what a run of activations saw.
type activations struct {
	done, failed int
	busy         int64 // 503 busy replies, waited for and sent again
	elapsed      time.Duration
	latencies    []time.Duration // of those done, sorted
	issued       []*x509.Certificate
	firstError   string
}

func (a activations) perSecond() float64 { return float64(a.done) / a.elapsed.Seconds() }

// add adds the activations of another run to a.
func (a *activations) add(o activations) {
	a.done += o.done
	a.failed += o.failed
	a.busy += o.busy
	a.elapsed += o.elapsed
	a.latencies = append(a.latencies, o.latencies...)
	slices.Sort(a.latencies)
	a.issued = append(a.issued, o.issued...)
	if a.firstError == "" {
		a.firstError = o.firstError
	}
}

// percentile is the latency under which that share of the activations
// done took.
func (a activations) percentile(p float64) time.Duration {
	if len(a.latencies) == 0 {
		return 0
	}
	return a.latencies[min(len(a.latencies)-1, int(p*float64(len(a.latencies))))]
}

// activateAll activates refs, clients at once, each as a holder's
// paraphe activate does (activation.Client: service document,
// questions, answers, a P-256 key, EST enrolment), and returns what it
// saw.
func activateAll(policy *config.Policy, refs []string, clients int) activations {
	var (
		mu   sync.Mutex
		res  activations
		busy atomic.Int64
		wg   sync.WaitGroup
	)
	work := make(chan string)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for ref := range work {
				t0 := time.Now()
				cert, err := activate(policy, ref, &busy)
				took := time.Since(t0)
				mu.Lock()
				if err != nil {
					res.failed++
					if res.firstError == "" {
						res.firstError = err.Error()
					}
				} else {
					res.done++
					res.latencies = append(res.latencies, took)
					res.issued = append(res.issued, cert)
				}
				mu.Unlock()
			}
		})
	}
	for _, ref := range refs {
		work <- ref
	}
	close(work)
	wg.Wait()
	res.elapsed = time.Since(start)
	res.busy = busy.Load()
	slices.Sort(res.latencies)
	return res
}

// activate runs one activation and returns the certificate issued.
func activate(policy *config.Policy, ref string, busy *atomic.Int64) (*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // paraphe activate's
	defer cancel()
	c, err := activation.New(policy, netclient.ClientOptions{})
	if err != nil {
		return nil, err
	}
	c.Busy = func(time.Duration) { busy.Add(1) }
	q, err := c.Questions(ctx, ref)
	if err != nil {
		return nil, err
	}
	if q.State != protocol.StatePending {
		return nil, fmt.Errorf("reference %s: %s", protocol.RedactRef(ref), q.State)
	}
	auth, err := c.Answer(ctx, ref, testenv.Answers)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	chain, err := c.Enroll(ctx, ref, auth.Code, key)
	if err != nil {
		return nil, err
	}
	return chain[0], nil
}
