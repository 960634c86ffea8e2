package trust

import (
	"errors"

	"github.com/paraphe/paraphe/pdf"
)

// ErrStale: a trusted list is past its NextUpdate. It is still used (see
// ListStatus.Stale).
var ErrStale = errors.New("trust: trusted list past its next update")

// ListError is a trusted list's problem, as Sources reports it.
type ListError struct {
	Territory, URL string
	Err            error
}

func (e *ListError) Error() string {
	return "trust: trusted list " + e.Territory + ": " + e.Err.Error()
}
func (e *ListError) Unwrap() error { return e.Err }

// Sources are where a computer's trust anchors come from. The zero value
// trusts nothing; each field set adds a source. The caller fills it from
// the machine policy: which files IT lists, whether the user may trust
// certificates of their own, whether the EU trusted lists are used.
type Sources struct {
	// Policy are the certificate files and folders the policy lists
	// (anchors of source pdf.SourcePolicy).
	Policy []string
	// Bundles are bundles an organisation provides, such as an export of
	// Adobe's AATL (pdf.SourceBundle).
	Bundles []string
	// User is the user's own store (pdf.SourceUser), nil when the policy
	// does not allow it.
	User *Store
	// TrustedLists are the EU trusted lists (pdf.SourceTrustedList), nil
	// when not used. Their anchors come from the cache: Update is the
	// caller's to run.
	TrustedLists *TrustedLists
}

// Anchors returns the anchors of every source, and what went wrong, each
// error naming its source: a *FileError for a policy or bundle file or a
// file of the user's store, a *ListError for a trusted list that is not
// used or is stale (ErrStale). One source failing never hides the others.
// A certificate trusted by several sources comes once per source.
func (s *Sources) Anchors() ([]pdf.Anchor, []error) {
	var anchors []pdf.Anchor
	var errs []error
	add := func(a []pdf.Anchor, err error) {
		anchors = append(anchors, a...)
		if err != nil {
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = append(errs, j.Unwrap()...)
			} else {
				errs = append(errs, err)
			}
		}
	}
	if len(s.Policy) > 0 {
		add(LoadFiles(pdf.SourcePolicy, s.Policy...))
	}
	if len(s.Bundles) > 0 {
		add(LoadFiles(pdf.SourceBundle, s.Bundles...))
	}
	if s.User != nil {
		add(s.User.Anchors())
	}
	if s.TrustedLists != nil {
		a, statuses := s.TrustedLists.CachedAnchors()
		anchors = append(anchors, a...)
		now := s.TrustedLists.now()
		for _, st := range statuses {
			switch {
			case st.Err != nil:
				errs = append(errs, &ListError{Territory: st.Territory, URL: st.URL, Err: st.Err})
			case st.Stale(now):
				errs = append(errs, &ListError{Territory: st.Territory, URL: st.URL, Err: ErrStale})
			}
		}
	}
	return anchors, errs
}
