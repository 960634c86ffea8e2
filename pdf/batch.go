package pdf

import (
	"context"
	"runtime"
	"sync"
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

// FileSigner signs a file into another.
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

// SignFiles signs jobs with the one key of s (one PIN entry, one time-stamp
// sample, shared revocation data), several files at a time, and returns a
// result per job, in order. A file that cannot be signed does not stop the
// others; cancelling ctx stops the batch: files under way end with an
// error when they next wait on the network, the others are not started.
// Done is called once for every job.
func (s *Signer) SignFiles(ctx context.Context, jobs []Job, p Progress) []JobResult {
	results := make([]JobResult, len(jobs))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = s.signJob(ctx, jobs[i], i, p)
				if p.Done != nil {
					p.Done(i, results[i])
				}
			}
		}()
	}
	next := 0
feed:
	for ; next < len(jobs); next++ {
		select {
		case work <- next:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	for i := next; i < len(jobs); i++ { // not reached
		results[i] = JobResult{Err: ctx.Err()}
		if p.Done != nil {
			p.Done(i, results[i])
		}
	}
	return results
}

func (s *Signer) signJob(ctx context.Context, job Job, i int, p Progress) JobResult {
	if p.Started != nil {
		p.Started(i)
	}
	if err := ctx.Err(); err != nil {
		return JobResult{Err: err}
	}
	if p.FileTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.FileTimeout)
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
