package exchange

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/paraphe/paraphe/assets"
	"github.com/paraphe/paraphe/exchange/internal/stream"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/verdict"
	"github.com/paraphe/paraphe/pdf"
)

// Verdict is one signature of a PDF as the suite's verifier judged it
// when the parcel was sent, in one language.
type Verdict struct {
	Severity verdict.Severity `json:"severity"`
	State    string           `json:"state"`
	Lines    []string         `json:"lines"`
}

// verifyTimeout bounds the verification of one document.
const verifyTimeout = 5 * time.Minute

// verify judges the signatures of the sealed PDF at path, read through
// the seal (no plaintext copy is made), in every language of the
// catalogue: an empty list for a PDF without signatures, one failed line
// for a file that does not read as a PDF.
func (x *Exchange) verify(ctx context.Context, path string, key []byte, name string) map[string][]Verdict {
	out := map[string][]Verdict{}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	ra, err := stream.NewReaderAt(key, f, fi.Size())
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	rep, err := pdf.VerifyReader(ctx, ra, ra.Size(), name, pdf.VerifyOptions{Roots: x.roots, Online: x.Config.VerifyOnline, Now: x.now})
	for _, lang := range assets.Languages {
		// The web's words where the CLI's would say "this computer" or
		// name a flag (the catalogue's "….web" messages).
		p := i18n.NewVariant(lang, "web")
		vs := []Verdict{}
		switch {
		case errors.Is(err, pdf.ErrNoSignature):
		case err != nil:
			vs = append(vs, Verdict{Severity: verdict.Failed, State: p.T("exchange.verdict.unreadable")})
		default:
			for _, s := range rep.Signatures {
				state, lines := verdict.Signature(p, s)
				vs = append(vs, Verdict{Severity: verdict.SeverityOf(s), State: state, Lines: lines})
			}
		}
		out[lang] = vs
	}
	if err != nil && !errors.Is(err, pdf.ErrNoSignature) {
		x.Log.Info("a PDF sent does not verify", "name", name, "err", err.Error())
	}
	return out
}
