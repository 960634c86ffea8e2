package ca

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"sync"
	"sync/atomic"
	"time"
)

// Signed OCSP answers are kept, by certificate serial, and served again
// while they still say what the database says: every request reads the
// certificate's status (one primary-key lookup), so a revocation made by
// another process — paraphe-ca revoke beside the server, another replica
// — is answered at once, and only the signature is saved. A revocation
// made here signs its answers again at once; the refresher (Serve) signs
// again, every minute, the answers asked for since they were signed and
// older than ocspRefresh, and forgets the others, so that an answer
// served is never more than a few minutes old and the cache holds what is
// asked for. Answers with a nonce, or about several certificates, are
// signed for each request.

// Bounds of the cache.
const (
	// ocspRefresh: an answer asked for is signed again once this old.
	ocspRefresh = 5 * time.Minute
	// ocspServeFor: an answer older than this is not served (the
	// refresher fell behind): it is signed again.
	ocspServeFor = 15 * time.Minute
	// ocspCacheSize bounds the answers kept (about 1 KiB each, the
	// responder's certificate included: 50 MiB at most); beyond it one
	// certificate's are forgotten, at random. ocspVariants bounds those
	// kept per certificate (its CertID hashed with SHA-1, SHA-256…).
	ocspCacheSize = 50_000
	ocspVariants  = 4
)

// ocspEntry is a signed answer about one certificate.
type ocspEntry struct {
	q      ocspQuery
	reply  []byte
	signed time.Time
	asked  atomic.Bool // since it was signed
}

type ocspCache struct {
	mu sync.RWMutex
	m  map[string][]*ocspEntry // by serial
	n  int
}

func newOCSPCache() *ocspCache { return &ocspCache{m: map[string][]*ocspEntry{}} }

// get returns the answer kept for q when it states q's status and is
// young enough to serve at now.
func (c *ocspCache) get(q ocspQuery, now time.Time) []byte {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, e := range c.m[q.serial] {
		if string(e.q.certID) != string(q.certID) {
			continue
		}
		if !e.q.st.same(q.st) || now.Sub(e.signed) >= ocspServeFor || now.Before(e.signed) {
			return nil
		}
		e.asked.Store(true)
		return e.reply
	}
	return nil
}

// put keeps reply, the answer to q signed at now, in place of the one
// for the same CertID.
func (c *ocspCache) put(q ocspQuery, reply []byte, now time.Time) {
	e := &ocspEntry{q: q, reply: reply, signed: now}
	c.mu.Lock()
	defer c.mu.Unlock()
	es := c.m[q.serial]
	for i, old := range es {
		if string(old.q.certID) == string(q.certID) {
			es[i] = e
			return
		}
	}
	if len(es) >= ocspVariants {
		return
	}
	if c.n >= ocspCacheSize {
		for serial, old := range c.m { // one at random: map order
			if serial != q.serial {
				delete(c.m, serial)
				c.n -= len(old)
				break
			}
		}
	}
	c.m[q.serial] = append(es, e)
	c.n++
}

// entries returns the answers kept about serial, or every answer when
// serial is empty.
func (c *ocspCache) entries(serial string) []*ocspEntry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if serial != "" {
		return append([]*ocspEntry(nil), c.m[serial]...)
	}
	out := make([]*ocspEntry, 0, c.n)
	for _, es := range c.m {
		out = append(out, es...)
	}
	return out
}

// drop forgets e, unless another answer replaced it meanwhile.
func (c *ocspCache) drop(e *ocspEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	es := c.m[e.q.serial]
	for i, old := range es {
		if old == e {
			es = append(es[:i:i], es[i+1:]...)
			c.n--
			break
		}
	}
	if len(es) == 0 {
		delete(c.m, e.q.serial)
	} else {
		c.m[e.q.serial] = es
	}
}

// len is the number of answers kept.
func (c *ocspCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.n
}

// resignOCSP signs again, with the status the database gives at now, the
// answers kept about serial (every answer when serial is empty).
func (a *Authority) resignOCSP(serial string, now time.Time) error {
	for _, e := range a.ocspCache.entries(serial) {
		if err := a.resignEntry(e, now); err != nil {
			return err
		}
	}
	return nil
}

func (a *Authority) resignEntry(e *ocspEntry, now time.Time) error {
	st, err := a.certStatus(e.q.serial, now)
	if err != nil {
		return err
	}
	q := ocspQuery{certID: e.q.certID, serial: e.q.serial, st: st}
	if !st.known {
		a.ocspCache.drop(e)
		return nil
	}
	reply, err := a.signOCSP([]ocspQuery{q}, nil, now)
	if err != nil {
		return err
	}
	a.ocspCache.put(q, reply, now)
	return nil
}

// refreshOCSP is the refresher's round at now: answers older than
// ocspRefresh are signed again when asked for since, forgotten otherwise.
func (a *Authority) refreshOCSP(now time.Time) error {
	for _, e := range a.ocspCache.entries("") {
		if now.Sub(e.signed) < ocspRefresh {
			continue
		}
		if !e.asked.Load() {
			a.ocspCache.drop(e)
			continue
		}
		if err := a.resignEntry(e, now); err != nil {
			return err
		}
	}
	return nil
}

// ocspRevoked signs again the answers kept about the certificates just
// revoked here.
func (a *Authority) ocspRevoked(serials []string) {
	now := time.Now()
	for _, s := range serials {
		if err := a.resignOCSP(s, now); err != nil {
			// The next request reads the revocation and signs anew.
			a.ocspCache.forget(s)
		}
	}
}

// clear drops every answer.
func (c *ocspCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m, c.n = map[string][]*ocspEntry{}, 0
}

// forget drops every answer about serial.
func (c *ocspCache) forget(serial string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n -= len(c.m[serial])
	delete(c.m, serial)
}

// precomputeOCSP signs, for a certificate just issued, the answer to the
// request most clients send (x/crypto/ocsp's, openssl's, NSS's: a CertID
// hashed with SHA-1), so that the first one is served from the cache.
func (a *Authority) precomputeOCSP(cert *x509.Certificate) {
	id := a.issuerIDs[crypto.SHA1]
	certID, err := asn1.Marshal(struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		NameHash      []byte
		KeyHash       []byte
		Serial        asn1.RawValue
	}{pkix.AlgorithmIdentifier{Algorithm: oidSHA1, Parameters: asn1.NullRawValue}, id.name, id.key, serialDER(cert)})
	if err != nil {
		return
	}
	now := time.Now()
	q := ocspQuery{certID: certID, serial: serialHex(cert.SerialNumber), st: certStatus{known: true}}
	if reply, err := a.signOCSP([]ocspQuery{q}, nil, now); err == nil {
		a.ocspCache.put(q, reply, now)
	}
}

var oidSHA1 = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}

// serialDER is cert's serial number as its DER encodes it.
func serialDER(cert *x509.Certificate) asn1.RawValue {
	b, _ := asn1.Marshal(cert.SerialNumber)
	return asn1.RawValue{FullBytes: b}
}
