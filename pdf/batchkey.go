package pdf

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// A BatchSigner is a key whose signatures are authorised a batch at a
// time: a remote key (CSC), whose one authorisation (a PIN and a
// one-time password) lists every hash it will sign. SignFiles finds it
// on Signer.Key, or behind it when the key says what it wraps (an
// Unwrap() crypto.Signer method, as a pkcs.Key has), and then signs in
// two passes: first each file's digest, written nowhere (the network
// work a signature needs is done there too: time-stamp sample,
// validation data); then one SignDigests for them all; then each file
// written with its signature. A file that changed between the passes
// fails (its digest is not among those signed): nothing else is signed
// for it. Other keys sign each file in one pass, as ever.
type BatchSigner interface {
	crypto.Signer
	// SignDigests signs digests (made with opts.HashFunc()) under one
	// authorisation and returns a signature per digest, in order, as
	// Sign would.
	SignDigests(ctx context.Context, digests [][]byte, opts crypto.SignerOpts) ([][]byte, error)
}

// ErrChangedInBatch: a file of a batch signed by a BatchSigner changed
// between the digest the batch authorised and its writing.
var ErrChangedInBatch = errors.New("pdf: the file changed while its signature was being authorised")

// batchSignerOf is k as a BatchSigner, or what k wraps.
func batchSignerOf(k crypto.Signer) (BatchSigner, bool) {
	for range 4 {
		if b, ok := k.(BatchSigner); ok {
			return b, true
		}
		u, ok := k.(interface{ Unwrap() crypto.Signer })
		if !ok {
			return nil, false
		}
		k = u.Unwrap()
	}
	return nil, false
}

// pass is a file's part of a two-pass batch, which its context carries:
// the key its signature is made with (recording the digest, then giving
// the signature made for it), its signing time and the second half of
// its new document ID, the same in both passes so that both make the
// same bytes.
type pass struct {
	key crypto.Signer
	now time.Time
	id  []byte
	// recording: the first pass, which writes nothing.
	recording bool
}

type passKey struct{}

func passOf(ctx context.Context) *pass {
	p, _ := ctx.Value(passKey{}).(*pass)
	return p
}

// Signing returns the key and the signing time of a file signed in ctx:
// a batch's (SignFiles) for each of its files, the Signer's otherwise.
// A FileSigner of the batch (a CAdES file's) signs with them.
func (s *Signer) Signing(ctx context.Context) (crypto.Signer, time.Time) {
	if p := passOf(ctx); p != nil {
		return p.key, p.now
	}
	return s.Key, s.now()
}

// errRecorded ends a first pass once its digest is recorded.
var errRecorded = errors.New("pdf: digest recorded")

// recordingKey records the digest it is asked to sign.
type recordingKey struct {
	pub    crypto.PublicKey
	digest []byte
	opts   crypto.SignerOpts
}

func (k *recordingKey) Public() crypto.PublicKey { return k.pub }

func (k *recordingKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.digest, k.opts = bytes.Clone(digest), opts
	return nil, errRecorded
}

// signedKey gives the signature made for the digest recorded.
type signedKey struct {
	pub            crypto.PublicKey
	digest, signed []byte
}

func (k *signedKey) Public() crypto.PublicKey { return k.pub }

func (k *signedKey) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	if !bytes.Equal(digest, k.digest) {
		return nil, ErrChangedInBatch
	}
	return k.signed, nil
}

// signBatch signs jobs with b in two passes (see BatchSigner).
func (s *Signer) signBatch(ctx context.Context, b BatchSigner, jobs []Job, p Progress) []JobResult {
	results := make([]JobResult, len(jobs))
	passes := make([]*pass, len(jobs))
	keys := make([]*recordingKey, len(jobs))
	done := make([]bool, len(jobs))
	finish := func(i int, r JobResult) {
		results[i], done[i] = r, true
		if p.Done != nil {
			p.Done(i, r)
		}
	}
	// Pass 1: the digests.
	s.each(ctx, len(jobs), func(i int) {
		if p.Started != nil {
			p.Started(i)
		}
		id := make([]byte, 16)
		rand.Read(id)
		keys[i] = &recordingKey{pub: b.Public()}
		passes[i] = &pass{key: keys[i], now: s.now(), id: id, recording: true}
		r := s.signJob(context.WithValue(ctx, passKey{}, passes[i]), jobs[i], p.FileTimeout)
		if !errors.Is(r.Err, errRecorded) {
			if r.Err == nil {
				r.Err = fmt.Errorf("pdf: %s signed without its key", jobs[i].In) // never: every signature asks the key
			}
			finish(i, r)
		}
	})
	var pending []int
	var digests [][]byte
	var opts crypto.SignerOpts = crypto.SHA256
	for i := range jobs {
		if !done[i] && keys[i] != nil && keys[i].digest != nil {
			pending = append(pending, i)
			digests = append(digests, keys[i].digest)
			opts = keys[i].opts
		} else if !done[i] {
			finish(i, JobResult{Err: ctx.Err()})
		}
	}
	if len(pending) == 0 {
		return results
	}
	// One authorisation for every digest.
	sigs, err := b.SignDigests(ctx, digests, opts)
	if err == nil && len(sigs) != len(digests) {
		err = fmt.Errorf("pdf: %d signatures for %d digests", len(sigs), len(digests))
	}
	if err != nil {
		for _, i := range pending {
			finish(i, JobResult{Err: err})
		}
		return results
	}
	// Pass 2: each file written with its signature.
	s.each(ctx, len(pending), func(n int) {
		i := pending[n]
		ps := *passes[i]
		ps.key, ps.recording = &signedKey{pub: b.Public(), digest: digests[n], signed: sigs[n]}, false
		finish(i, s.signJob(context.WithValue(ctx, passKey{}, &ps), jobs[i], p.FileTimeout))
	})
	for _, i := range pending {
		if !done[i] {
			finish(i, JobResult{Err: ctx.Err()})
		}
	}
	return results
}

// each runs f(0), …, f(n-1), several at a time, until ctx is done: the
// indexes not reached are not run.
func (s *Signer) each(ctx context.Context, n int, f func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(workers(), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case work <- i:
		case <-ctx.Done():
			i = n
		}
	}
	close(work)
	wg.Wait()
}
