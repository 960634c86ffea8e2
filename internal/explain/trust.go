package explain

import (
	"errors"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/verdict"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/trust"
)

// TrustWarning says that a source of trust could not be used, and what to
// do: verification goes on without it.
func TrustWarning(p *i18n.Printer, err error) string {
	var le *trust.ListError
	var fe *trust.FileError
	switch {
	case errors.As(err, &le) && errors.Is(le.Err, trust.ErrNotCached) && (le.Territory == "EU" || le.Territory == ""):
		return p.T("trust.warn.not_downloaded")
	case errors.As(err, &le) && errors.Is(le.Err, trust.ErrStale):
		return p.T("trust.warn.stale", "List", ListName(p, le.Territory))
	case errors.As(err, &le):
		return p.T("trust.warn.list", "List", ListName(p, le.Territory), "Why", ListProblem(p, le.Err))
	case errors.As(err, &fe):
		return p.T("trust.warn.file", "File", fe.Path, "Why", FileProblem(p, fe.Err))
	}
	return p.T("trust.warn.other", "Err", err.Error())
}

// ListName names a trusted list: the EU's list of lists, or a country's.
func ListName(p *i18n.Printer, territory string) string {
	if territory == "EU" || territory == "" {
		return p.T("trust.lotl")
	}
	return p.T("trust.national", "Country", verdict.CountryName(p.Lang, territory))
}

// ListProblem says in words why a trusted list is not used.
func ListProblem(p *i18n.Printer, err error) string {
	var se *trust.SignatureError
	var fe *trust.FetchError
	var re *trust.RollbackError
	var te *trust.TerritoryError
	switch {
	case errors.As(err, &se):
		switch se.Problem {
		case trust.SigAltered:
			return p.T("trust.why.altered")
		case trust.SigUntrustedSigner:
			return p.T("trust.why.untrusted_signer")
		case trust.SigSignerExpired:
			return p.T("trust.why.signer_expired")
		case trust.SigMissing:
			return p.T("trust.why.unsigned")
		}
		return p.T("trust.why.signature")
	case errors.As(err, &fe):
		return p.T("trust.why.fetch")
	case errors.As(err, &re):
		return p.T("trust.why.rollback")
	case errors.As(err, &te):
		return p.T("trust.why.territory")
	case errors.Is(err, trust.ErrNotCached):
		return p.T("trust.why.not_cached")
	case errors.Is(err, trust.ErrTooLarge):
		return p.T("trust.why.too_large")
	case errors.Is(err, trust.ErrNotTrustedList):
		return p.T("trust.why.not_list")
	case errors.Is(err, trust.ErrStale):
		return p.T("trust.why.stale")
	}
	return err.Error()
}

// FileProblem says in words why a certificate file cannot be used.
func FileProblem(p *i18n.Printer, err error) string {
	switch {
	case errors.Is(err, trust.ErrNoCertificate), errors.Is(err, trust.ErrNotCertificate):
		return p.T("trust.why.no_certificate")
	case errors.Is(err, trust.ErrTooLarge):
		return p.T("trust.why.too_large")
	case errors.Is(err, trust.ErrAlreadyTrusted):
		return p.T("trust.why.already")
	}
	return p.T("trust.why.unreadable", "Err", err.Error())
}

// RelevantTrustWarnings keeps the warnings worth saying after a
// verification: a file IT deployed always, a trusted list only when a
// signature found no trusted chain (the list might have vouched for it).
func RelevantTrustWarnings(warnings []error, sigs []pdf.SignatureReport) []error {
	untrusted := false
	for _, s := range sigs {
		untrusted = untrusted || s.TrustProblem == pdf.TrustUnknownAuthority || s.TrustProblem == pdf.TrustNotGranted
	}
	var out []error
	for _, w := range warnings {
		var le *trust.ListError
		if errors.As(w, &le) && !untrusted {
			continue
		}
		out = append(out, w)
	}
	return out
}
