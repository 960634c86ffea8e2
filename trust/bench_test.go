package trust

import (
	"crypto/x509"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/trust/tltest"
)

// bigList returns a signed national list of about size bytes: providers
// of ten services each, with certificates and a status history, as the
// largest national lists have.
func bigList(b *testing.B, size int) ([]byte, *tltest.Signer) {
	b.Helper()
	var pool []*x509.Certificate
	for i := 0; i < 64; i++ {
		pool = append(pool, newCA(b, fmt.Sprintf("Qualified CA %d with a long enough name", i)))
	}
	l := &tltest.List{Territory: "DE", Sequence: 1}
	est := 0
	for p := 0; est < size; p++ {
		prov := tltest.Provider{Name: fmt.Sprintf("Provider %d GmbH", p)}
		for s := 0; s < 10; s++ {
			c := pool[(p*10+s)%len(pool)]
			prov.Services = append(prov.Services, tltest.Service{
				Type: tltest.CAQC, Name: fmt.Sprintf("Service %d.%d", p, s), Status: tltest.Granted, Start: t2016,
				Certs: []*x509.Certificate{c}, Additional: []string{tltest.ForESignatures},
				History: []tltest.History{{Status: tltest.UnderSupervision, Start: t2010}},
			})
			est += len(c.Raw)*4/3 + 2000
		}
		l.Providers = append(l.Providers, prov)
	}
	s := tltest.NewSigner(b, "DE signer")
	return s.Sign(b, l.XML()), s
}

// BenchmarkVerifyList checks and reads whole national lists: what Update
// and Anchors do per list. peak-MiB is the largest heap in use seen while
// a list is checked.
func BenchmarkVerifyList(b *testing.B) {
	for _, mib := range []int{1, 10, 30} {
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) {
			data, s := bigList(b, mib<<20)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var peak uint64
			var mu sync.Mutex
			stop := make(chan struct{})
			go func() {
				var m runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
					runtime.ReadMemStats(&m)
					mu.Lock()
					peak = max(peak, m.HeapInuse)
					mu.Unlock()
				}
			}()
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			b.ResetTimer()
			for b.Loop() {
				var anchors []pdf.Anchor
				_, err := verifyAndParse(data, []*x509.Certificate{s.Cert}, "DE", time.Now(), func(tsp *trustServiceProvider) {
					a, _ := providerAnchors("DE", tsp)
					anchors = append(anchors, a...)
				})
				if err != nil || len(anchors) == 0 {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			close(stop)
			mu.Lock()
			b.ReportMetric(float64(peak-min(peak, base.HeapInuse))/(1<<20), "peak-MiB")
			mu.Unlock()
		})
	}
}
