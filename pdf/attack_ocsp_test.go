package pdf

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"os"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// An OCSP "good" response signed by the holder's own key (his certificate
// comes from the same issuer, but has no id-kp-OCSPSigning), added later in
// a /DSS update, makes the signature "good, embedded", B-LT.
func TestAttackSelfSignedOCSP(t *testing.T) {
	srv, key, chain, hc := caPKI(t)
	s := &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelT, TSA: srv.URL + "/tsa", HTTP: hc}}
	out := signWith(t, s, makePDF(1, false))
	S := mustRead(t, out)
	leaf, issuer := chain[0], chain[1]
	resp, err := ocsp.CreateResponse(issuer, leaf, ocsp.Response{Status: ocsp.Good, SerialNumber: leaf.SerialNumber,
		ThisUpdate: time.Now().AddDate(-5, 0, 0), NextUpdate: time.Now().AddDate(-4, 0, 0), Certificate: leaf}, key.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := cos.Open(bytes.NewReader(S), int64(len(S)))
	doc, _ := readDocument(f)
	n := f.MaxNum + 1
	cat := copyDict(doc.catalog)
	cat["DSS"] = cos.Ref{Num: n}
	objs := map[int]string{
		doc.catalogRef.Num: string(cos.Append(nil, cat)),
		n:                  fmt.Sprintf("<< /Type /DSS /OCSPs [%d 0 R] /Certs [%d 0 R] >>", n+1, n+2),
		n + 1:              fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(resp), resp),
		n + 2:              fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(issuer.Raw), issuer.Raw),
	}
	forged := appendUpdate(S, objs, fmt.Sprintf("<< /Size %d /Root %s /Prev %d >>", n+3, cos.Append(nil, f.Trailer["Root"]), lastStartXRef(S)))
	r := verifyBytes2(t, forged, anchorsOf(srv.Root.Raw))
	t.Logf("revocation=%s src=%s level=%s valid=%v changes=%v", r.Revocation, r.RevocationSrc, r.Level, r.Valid(), r.Changes)
	if r.Revocation == RevocationGood {
		t.Errorf("OCSP response signed by the holder himself (expired 4 years ago) accepted")
	}
}

func verifyBytes2(t *testing.T, data []byte, anchors [][]byte) SignatureReport {
	path := t.TempDir() + "/x.pdf"
	os.WriteFile(path, data, 0o644)
	rep, err := Verify(context.Background(), path, VerifyOptions{Anchors: anchors})
	if err != nil {
		t.Fatal(err)
	}
	return rep.Signatures[0]
}
