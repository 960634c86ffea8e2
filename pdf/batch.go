package pdf

import (
	"context"
	"runtime"
	"time"
)

// Job is one file of a batch: In is signed into Out, by Signer when it is
// not nil (a file that is not a PDF: a CAdES signer), as a PDF by the
// batch's Signer otherwise. Password, when not nil, replaces
// Options.Password for this file (a PDF's).
type Job struct {
	In, Out  string
	Password []byte
	Signer   FileSigner
}

// FileSigner signs a file into another. One that signs with a batch's
// key takes the key and signing time from Signer.Signing(ctx).
type FileSigner interface {
	SignFile(ctx context.Context, in, out string) (*Result, error)
}

// JobResult is how one file of a batch went: Result when it was signed,
// Err otherwise (the context's error for a file a cancelled batch did not
// reach).
type JobResult struct {
	*Result
	Err error
}

// Progress follows a batch. Its functions are called from the batch's
// goroutines, each file's Started before its Done; either may be nil.
type Progress struct {
	Started func(i int)              // jobs[i] is being signed
	Done    func(i int, r JobResult) // jobs[i] is finished, signed or not
	// FileTimeout bounds each file's network work (time-stamp, revocation
	// data); 0 leaves it to ctx.
	FileTimeout time.Duration
}

func workers() int { return runtime.NumCPU() }

// SignFiles signs jobs with the one key of s (one PIN entry, one time-stamp
// sample, shared revocation data), several files at a time, and returns a
// result per job, in order. A file that cannot be signed does not stop the
// others; cancelling ctx stops the batch: files under way end with an
// error when they next wait on the network, the others are not started.
// Done is called once for every job. A key that authorises a batch at a
// time (BatchSigner) signs every file of it under one authorisation.
func (s *Signer) SignFiles(ctx context.Context, jobs []Job, p Progress) []JobResult {
	if b, ok := batchSignerOf(s.Key); ok {
		return s.signBatch(ctx, b, jobs, p)
	}
	results := make([]JobResult, len(jobs))
	reached := make([]bool, len(jobs))
	s.each(ctx, len(jobs), func(i int) {
		reached[i] = true
		if p.Started != nil {
			p.Started(i)
		}
		results[i] = s.signJob(ctx, jobs[i], p.FileTimeout)
		if p.Done != nil {
			p.Done(i, results[i])
		}
	})
	for i := range jobs {
		if !reached[i] {
			results[i] = JobResult{Err: ctx.Err()}
			if p.Done != nil {
				p.Done(i, results[i])
			}
		}
	}
	return results
}

func (s *Signer) signJob(ctx context.Context, job Job, timeout time.Duration) JobResult {
	if err := ctx.Err(); err != nil {
		return JobResult{Err: err}
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if job.Signer != nil {
		res, err := job.Signer.SignFile(ctx, job.In, job.Out)
		return JobResult{Result: res, Err: err}
	}
	password := s.Opts.Password
	if job.Password != nil {
		password = job.Password
	}
	res, err := s.signFile(ctx, job.In, job.Out, password)
	return JobResult{Result: res, Err: err}
}
