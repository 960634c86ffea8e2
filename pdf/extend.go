package pdf

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// Extender brings signed documents, ours or anyone's, up to PAdES B-LT or
// B-LTA (ETSI EN 319 142-1 §6.3): it gathers the validation data of every
// signature and time-stamp in the file (every certificate of the signers'
// and the time-stamping units' chains, an OCSP response or a CRL for each
// one below a root) into the /DSS, with a /VRI entry per signature, and for
// B-LTA adds a document time-stamp over it all. Extending an archive again
// before its last time-stamp's certificate expires renews it ("archive
// refresh"): the new time-stamp proves the older one existed while it was
// still valid.
type Extender struct {
	Level Level        // LevelLT or LevelLTA
	TSA   string       // the time-stamping authority, for B-LTA
	HTTP  *http.Client // for OCSP, CRLs, missing issuers and the TSA: the policy's client
	Now   func() time.Time
	// Password opens encrypted documents, as Options.Password does.
	Password []byte
}

// ExtendResult says what extending a document did.
type ExtendResult struct {
	Input, Output string
	Level         Level
	// Signatures is how many signatures and time-stamps the data covers;
	// Fetched how many OCSP responses, CRLs and certificates were fetched.
	Signatures, Fetched int
	// TimestampTime is the new document time-stamp's time (B-LTA).
	TimestampTime time.Time
}

// ErrNothingToExtend is returned for a document without signatures.
var ErrNothingToExtend = errors.New("pdf: the document has no signature to extend")

// ExtendFile extends in into out, written under a temporary name and
// renamed when complete; the input is never changed.
func (e *Extender) ExtendFile(ctx context.Context, in, out string) (*ExtendResult, error) {
	if e.Level != LevelLT && e.Level != LevelLTA {
		return nil, fmt.Errorf("pdf: extend to %q: B-LT or B-LTA", e.Level)
	}
	if e.Level == LevelLTA && e.TSA == "" {
		return nil, ErrNeedTSA
	}
	res := &ExtendResult{Input: in, Output: out, Level: e.Level}
	err := writeAtomically(in, out, func(src *os.File, size int64, w io.Writer) error {
		return e.extend(ctx, src, size, w, res)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// writeAtomically opens in, and writes out under a temporary name beside
// it with write, renaming it when complete. out must not exist, nor be in;
// it takes in's permission (atomicfile.CopyPerm), less the umask.
func writeAtomically(in, out string, write func(src *os.File, size int64, w io.Writer) error) error {
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	if ofi, err := os.Stat(out); err == nil && os.SameFile(fi, ofi) {
		return fmt.Errorf("%w: %s", ErrSameFile, out)
	}
	err = atomicfile.Create(out, atomicfile.CopyPerm(fi), func(w io.Writer) error { return write(src, fi.Size(), w) })
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrOutputExists, out)
	}
	return err
}

// evidence is what one signature or time-stamp needs validated.
type evidence struct {
	vriKey string              // its /VRI key
	certs  []*x509.Certificate // the signer's (or unit's) and its time-stamps' units
}

func (e *Extender) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Extender) extend(ctx context.Context, src io.ReaderAt, size int64, out io.Writer, res *ExtendResult) error {
	f, doc, _, err := openDocument(src, size, res.Input, false, e.Password)
	if err != nil {
		return err
	}
	// The validation data serves signatures already there; a document
	// time-stamp is a field of its own.
	if err := doc.allow(e.Level == LevelLTA, false); err != nil {
		return fmt.Errorf("%w: %s", err, res.Input)
	}
	sigs := collectSignatures(f, doc.catalog)
	if len(sigs) == 0 {
		return ErrNothingToExtend
	}
	v := &verifier{r: src, size: size, f: f, now: e.now()}
	v.dss = readDSS(f, doc.catalog)
	var ev []evidence
	for _, s := range sigs {
		x := v.examine(s)
		if x.sd == nil && x.rsaSHA1 == nil {
			continue // unreadable: nothing to validate
		}
		item := evidence{vriKey: vriKey(x)}
		if x.rep.Certificate != nil {
			item.certs = append(item.certs, x.rep.Certificate)
		}
		if x.rep.Kind == KindSignature {
			for _, ts := range x.tokens {
				if tsa := ts.Signer(v.certs, v.dss.certs); tsa != nil {
					item.certs = append(item.certs, tsa)
				}
			}
		}
		ev = append(ev, item)
	}
	res.Signatures = len(ev)
	g := &gatherer{e: e, ctx: ctx, dss: v.dss, pool: append(append([]*x509.Certificate{}, v.certs...), v.dss.certs...)}
	vri := map[string]*dssData{}
	for _, item := range ev {
		d := &dssData{}
		for _, c := range item.certs {
			if err := g.chain(c, d); err != nil {
				return err
			}
		}
		vri[item.vriKey] = d
	}
	res.Fetched = g.fetched

	// One pass over the original: copied and hashed together, the hash
	// carried on through the updates for the document time-stamp.
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), io.NewSectionReader(src, 0, size)); err != nil {
		return err
	}
	lead := []byte{}
	last := make([]byte, 1)
	if _, err := src.ReadAt(last, size-1); err == nil && last[0] != '\n' && last[0] != '\r' {
		lead = []byte{'\n'}
	}
	out.Write(lead)
	h.Write(lead)
	base := size + int64(len(lead))
	u := newUpdate(f)
	prevXref := u.prev
	if g.added() || !vriComplete(f, doc, vri) {
		data, xrefAt := dssUpdate(u, doc, g.data, vri, e.now()).serializeFinished(base)
		if _, err := out.Write(data); err != nil {
			return err
		}
		h.Write(data)
		prevXref, base = base+int64(xrefAt), base+int64(len(data))
	}
	if e.Level == LevelLTA {
		t, err := e.appendDocTimestamp(ctx, u, doc, prevXref, base, h, out)
		if err != nil {
			return err
		}
		res.TimestampTime = t
	}
	return nil
}

// vriKey is a signature's key in /VRI: the upper-case hex SHA-1 of its
// /Contents (ETSI EN 319 142-1 §5.4.2.2), as iText and DSS compute it: the
// whole string for a signature, the token without its padding for a
// document time-stamp.
func vriKey(x *examined) string {
	contents := toString(x.dict["Contents"])
	if x.rep.Kind == KindDocumentTimestamp {
		contents = trimDER(contents)
	}
	sum := sha1.Sum(contents)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// vriComplete reports whether the /VRI already holds every key.
func vriComplete(f *cos.File, doc *document, vri map[string]*dssData) bool {
	dss, _ := f.ResolveDict(doc.catalog["DSS"])
	have, _ := f.ResolveDict(dss["VRI"])
	for k := range vri {
		if have[cos.Name(k)] == nil {
			return false
		}
	}
	return true
}

// gatherer collects the validation data of chains: what the /DSS lacks is
// fetched (issuers through their caIssuers address, OCSP, CRLs).
type gatherer struct {
	e       *Extender
	ctx     context.Context
	dss     *dssContent
	pool    []*x509.Certificate
	data    dssData // what the new /DSS adds
	fetched int
	seen    map[string]bool // certificates done
}

func (g *gatherer) added() bool {
	return len(g.data.certs)+len(g.data.ocsps)+len(g.data.crls) > 0
}

// signer is a Signer used for its fetching helpers.
func (g *gatherer) signer() *Signer { return &Signer{Opts: Options{HTTP: g.e.HTTP}} }

// chain adds c and its issuers, up to a root, with a revocation status for
// each one below the root, to d (the signature's /VRI entry) and to what
// the /DSS lacks.
func (g *gatherer) chain(c *x509.Certificate, d *dssData) error {
	if g.seen == nil {
		g.seen = map[string]bool{}
	}
	for depth := 0; c != nil && depth < 16; depth++ {
		d.certs = append(d.certs, c)
		if !g.inDSS(c) && !g.seen["cert:"+string(c.Raw)] {
			g.data.certs = append(g.data.certs, c)
		}
		g.seen["cert:"+string(c.Raw)] = true
		if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
			return nil // a root is its own authority
		}
		issuer, err := g.issuer(c)
		if err != nil {
			return err
		}
		if err := g.status(c, issuer, d); err != nil {
			return err
		}
		c = issuer
	}
	return nil
}

func (g *gatherer) inDSS(c *x509.Certificate) bool {
	for _, o := range g.dss.certs {
		if o.Equal(c) {
			return true
		}
	}
	return false
}

// issuer finds c's issuer among the certificates at hand, else from the
// address its Authority Information Access gives (caIssuers).
func (g *gatherer) issuer(c *x509.Certificate) (*x509.Certificate, error) {
	for _, o := range g.pool {
		if bytes.Equal(o.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(o) == nil {
			return o, nil
		}
	}
	for _, url := range c.IssuingCertificateURL {
		der, err := g.signer().get(g.ctx, http.MethodGet, url, "", nil)
		if err != nil {
			continue
		}
		g.fetched++
		for _, o := range certsIn(der) {
			if bytes.Equal(o.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(o) == nil {
				g.pool = append(g.pool, o)
				return o, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: the issuer of %q is neither in the file nor at its caIssuers address", ErrRevocationNet, c.Subject.CommonName)
}

// certsIn reads a DER certificate or a PKCS#7 certs-only bundle.
func certsIn(der []byte) []*x509.Certificate {
	if c, err := cms.ParseCertificate(der); err == nil {
		return []*x509.Certificate{c}
	}
	if sd, err := cms.ParseCertsOnly(der); err == nil {
		return sd
	}
	return nil
}

// oidOCSPNoCheck marks an OCSP responder's certificate: nothing checks it.
var oidOCSPNoCheck = []int{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// status gives c a revocation status: the /DSS's when it holds a fresh one
// (or any, for a certificate expired since: its CA may no longer answer for
// it), else an OCSP response, else a CRL, fetched now. A revoked status is
// kept as it is: the verifier weighs it against the signing time.
func (g *gatherer) status(c, issuer *x509.Certificate, d *dssData) error {
	for _, ext := range c.Extensions {
		if ext.Id.Equal(oidOCSPNoCheck) {
			return nil
		}
	}
	now := g.e.now()
	if st := statusOf(c, issuer, g.dss.ocsps, g.dss.crls, now, now, RevocationEmbedded); st.state != RevocationNotChecked || (st.found && now.After(c.NotAfter)) {
		return nil
	}
	if g.seen["status:"+string(c.Raw)] {
		return nil
	}
	s := g.signer()
	if len(c.OCSPServer) > 0 {
		if req, err := ocsp.CreateRequest(c, issuer, nil); err == nil {
			if der, err := s.get(g.ctx, http.MethodPost, c.OCSPServer[0], "application/ocsp-request", req); err == nil {
				if resp, err := ocsp.ParseResponseForCert(der, c, issuer); err == nil && resp.Status != ocsp.Unknown {
					g.fetched++
					g.seen["status:"+string(c.Raw)] = true
					d.ocsps = append(d.ocsps, der)
					g.data.ocsps = append(g.data.ocsps, der)
					if resp.Certificate != nil {
						// A delegated responder: its certificate is
						// validation data too.
						if !g.seen["cert:"+string(resp.Certificate.Raw)] && !g.inDSS(resp.Certificate) {
							g.seen["cert:"+string(resp.Certificate.Raw)] = true
							g.data.certs = append(g.data.certs, resp.Certificate)
						}
						d.certs = append(d.certs, resp.Certificate)
					}
					return nil
				}
			}
		}
	}
	for _, url := range c.CRLDistributionPoints {
		der, err := s.get(g.ctx, http.MethodGet, url, "", nil)
		if err != nil {
			continue
		}
		if crl, err := x509.ParseRevocationList(der); err != nil || crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		g.fetched++
		g.seen["status:"+string(c.Raw)] = true
		d.crls = append(d.crls, der)
		g.data.crls = append(g.data.crls, der)
		return nil
	}
	if now.After(c.NotAfter) {
		return nil // expired: its CA owes it no answer; what was kept stands
	}
	return fmt.Errorf("%w: no OCSP responder or CRL answered for %q", ErrRevocationNet, c.Subject.CommonName)
}

// dssUpdate is the update that extends the /DSS with d and /VRI entries.
// Objects already in the file are referred to, not copied.
func dssUpdate(u *update, doc *document, d dssData, vri map[string]*dssData, now time.Time) *update {
	f := doc.f
	old, _ := f.ResolveDict(doc.catalog["DSS"])
	refs := map[string]cos.Object{} // DER → the stream holding it
	remember := func(key cos.Name) {
		arr, _ := f.Resolve(old[key])
		a, _ := arr.(cos.Array)
		for _, r := range a {
			if st, ok := s0(f, r).(*cos.Stream); ok {
				if data, err := f.StreamData(st); err == nil {
					refs[string(data)] = r
				}
			}
		}
	}
	remember("Certs")
	remember("OCSPs")
	remember("CRLs")
	streams := func(items [][]byte) cos.Array {
		var a cos.Array
		for _, it := range items {
			if r, ok := refs[string(it)]; ok {
				a = append(a, r)
				continue
			}
			r := u.add(&cos.Stream{Dict: cos.Dict{}, Raw: it})
			refs[string(it)] = r
			a = append(a, r)
		}
		return a
	}
	merged := func(key cos.Name, add cos.Array) cos.Array {
		prev, _ := f.Resolve(old[key])
		pa, _ := prev.(cos.Array)
		return append(append(cos.Array{}, pa...), add...)
	}
	var certs [][]byte
	for _, c := range d.certs {
		certs = append(certs, c.Raw)
	}
	dss := copyDict(old)
	dss["Type"] = cos.Name("DSS")
	dss["Certs"] = merged("Certs", streams(certs))
	if a := merged("OCSPs", streams(d.ocsps)); len(a) > 0 {
		dss["OCSPs"] = a
	}
	if a := merged("CRLs", streams(d.crls)); len(a) > 0 {
		dss["CRLs"] = a
	}
	oldVRI, _ := f.ResolveDict(old["VRI"])
	vd := copyDict(oldVRI)
	for key, entry := range vri {
		var certs [][]byte
		for _, c := range entry.certs {
			certs = append(certs, c.Raw)
		}
		e := cos.Dict{"Cert": streams(certs), "TU": cos.String(pdfDate(now))}
		if len(entry.ocsps) > 0 {
			e["OCSP"] = streams(entry.ocsps)
		}
		if len(entry.crls) > 0 {
			e["CRL"] = streams(entry.crls)
		}
		vd[cos.Name(key)] = u.add(e)
	}
	dss["VRI"] = u.add(vd)
	doc.catalog["DSS"] = u.add(dss)
	u.set(doc.catalogRef, doc.catalog)
	return u
}

// serializeFinished writes the update as it stands at base, with its
// startxref and %%EOF; it returns the bytes and the cross-reference
// section's offset from base.
func (u *update) serializeFinished(base int64) ([]byte, int) {
	data, _, xrefAt := u.serialize(base)
	return finish(data, base+int64(xrefAt)), xrefAt
}

// appendDocTimestamp writes the update that adds a document time-stamp
// (ETSI.RFC3161) over everything before it: h has hashed the file so far.
// It returns the time-stamp's time.
func (e *Extender) appendDocTimestamp(ctx context.Context, prev *update, doc *document, prevXref, base int64, h hash.Hash, out io.Writer) (time.Time, error) {
	signer := &Signer{Opts: Options{TSA: e.TSA, HTTP: e.HTTP}}
	sample, err := signer.tokenSample(ctx)
	if err != nil {
		return time.Time{}, err
	}
	placeholder := len(sample) + 512
	u := prev.following(prevXref)
	sig := cos.Dict{
		"Type":      cos.Name("DocTimeStamp"),
		"Filter":    cos.Name("Adobe.PPKLite"),
		"SubFilter": cos.Name("ETSI.RFC3161"),
		"ByteRange": cos.Raw(byteRangePlaceholder),
		"Contents":  cos.Raw("<" + strings.Repeat("0", 2*placeholder) + ">"),
	}
	sigRef := u.add(sig)
	if _, err := doc.addSignatureField(u, sigRef, Options{}, nil, e.now()); err != nil {
		return time.Time{}, err
	}
	data, at, xrefAt := u.serialize(base)
	data = finish(data, base+int64(xrefAt))
	sigAt := at[sigRef.Num]
	brAt := sigAt + bytes.Index(data[sigAt:], []byte(byteRangePlaceholder))
	cAt := sigAt + bytes.Index(data[sigAt:], []byte("/Contents <")) + len("/Contents ")
	cEnd := cAt + 2 + 2*placeholder
	total := base + int64(len(data))
	copy(data[brAt:], fmt.Sprintf("[0 %010d %010d %010d]", base+int64(cAt), base+int64(cEnd), total-(base+int64(cEnd))))
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return time.Time{}, err
	}
	ranges := sha256.New()
	if err := ranges.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return time.Time{}, err
	}
	ranges.Write(data[:cAt])
	ranges.Write(data[cEnd:])
	tsa := &tsaClient{url: e.TSA, http: signer.http()}
	token, t, err := tsa.stampDigest(ctx, ranges.Sum(nil))
	if err != nil {
		return time.Time{}, err
	}
	if len(token) > placeholder {
		return time.Time{}, fmt.Errorf("%w (%d bytes for %d)", ErrPlaceholder, len(token), placeholder)
	}
	hex.Encode(data[cAt+1:], token)
	if _, err := out.Write(data); err != nil {
		return time.Time{}, err
	}
	return t, nil
}
