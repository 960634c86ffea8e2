package pdf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// etsiXSD is the ETSI TS 119 102-2 schema (with what it imports) that the
// reports must satisfy, as libxml2's xmllint reads it, offline.
const etsiXSD = "testdata/etsi/1910202xmlSchema.xsd"

// schemaCheck runs xmllint --schema on the XML file at path and returns
// its verdict and words.
func schemaCheck(t *testing.T, path string) (bool, string) {
	t.Helper()
	testenv.Require(t, "xmllint")
	out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema", etsiXSD, path).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("xmllint: %v", err)
	}
	return err == nil, string(out)
}

// etsiReport writes rep's ETSI report for the PDF at pdfPath, checks that
// xmllint accepts it and that a second writing gives the same bytes, and
// returns the report's path.
func etsiReport(t *testing.T, pdfPath string, rep *Report) string {
	t.Helper()
	write := func() []byte {
		fh, err := os.Open(pdfPath)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		fi, _ := fh.Stat()
		var buf bytes.Buffer
		if err := rep.WriteETSI(&buf, fh, fi.Size(), ETSIOptions{}); err != nil {
			t.Fatalf("WriteETSI: %v", err)
		}
		return buf.Bytes()
	}
	doc := write()
	if again := write(); !bytes.Equal(doc, again) {
		t.Fatal("two reports of the same verification differ")
	}
	path := filepath.Join(t.TempDir(), "report.xml")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, out := schemaCheck(t, path); !ok {
		t.Fatalf("xmllint refuses the report:\n%s\n%s", out, doc)
	}
	wantReferencesResolve(t, path)
	wantIDsAreDigests(t, path)
	return path
}

var objectRe = regexp.MustCompile(`(?s)<ValidationObject id="([CRT])-([0-9A-F]+)">\s*<ObjectType>[^<]*</ObjectType>\s*` +
	`<ValidationObjectRepresentation>\s*<base64>([^<]*)</base64>`)

// wantIDsAreDigests checks the id convention DSS follows and so do we: a
// certificate, revocation or time-stamp object is named by a letter and
// the upper-case SHA-256 of its DER.
func wantIDsAreDigests(t *testing.T, x string) {
	t.Helper()
	doc, _ := os.ReadFile(x)
	objs := objectRe.FindAllSubmatch(doc, -1)
	if len(objs) != bytes.Count(doc, []byte("<base64>")) {
		t.Fatalf("%d objects in DER, %d read", bytes.Count(doc, []byte("<base64>")), len(objs))
	}
	for _, m := range objs {
		der, err := base64.StdEncoding.DecodeString(string(m[3]))
		if err != nil {
			t.Fatalf("object %s-%s: %v", m[1], m[2], err)
		}
		if want := idOf(string(m[1])+"-", der); want != string(m[1])+"-"+string(m[2]) {
			t.Errorf("object %s-%s holds data whose digest is %s", m[1], m[2], want)
		}
	}
}

// xq evaluates an XPath expression on the XML file at path with xmllint.
// Steps are written without namespaces ("SignatureValidationReport[1]/
// SignatureIdentifier/@id") and matched by local name.
func xq(t *testing.T, path, expr string) string {
	t.Helper()
	out, err := exec.Command("xmllint", "--nonet", "--xpath", localNames(expr), path).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "XPath set is empty") {
			return ""
		}
		t.Fatalf("xmllint --xpath %s: %v\n%s", expr, err, out)
	}
	return strings.TrimSpace(string(out))
}

var xpathStep = regexp.MustCompile(`(^|/|\[)([A-Za-z][A-Za-z0-9]*)`)

// localNames rewrites each element step of expr as *[local-name()='…'],
// inside string(…) and count(…) too.
func localNames(expr string) string {
	inner, wrap := expr, "%s"
	for _, f := range []string{"string(", "count("} {
		if strings.HasPrefix(expr, f) {
			inner, wrap = strings.TrimSuffix(strings.TrimPrefix(expr, f), ")"), f+"%s)"
		}
	}
	inner = xpathStep.ReplaceAllString(inner, "$1*[local-name()='$2']")
	return strings.Replace(wrap, "%s", inner, 1)
}

func verifyFile(t *testing.T, path string, o VerifyOptions) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func idOf(prefix string, b []byte) string {
	sum := sha256.Sum256(b)
	return prefix + strings.ToUpper(hex.EncodeToString(sum[:]))
}

// signedDataID is the id of the signed-data object for these signed bytes:
// D- and their SHA-256.
func signedDataID(signed []byte) string {
	sum := sha256.Sum256(signed)
	return "D-" + strings.ToUpper(hex.EncodeToString(sum[:]))
}

func b64std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// wantXQ checks several XPath results at once.
func wantXQ(t *testing.T, path string, want map[string]string) {
	t.Helper()
	for expr, w := range want {
		if got := xq(t, path, expr); got != w {
			t.Errorf("%s = %q, want %q", expr, got, w)
		}
	}
}

const svr = "//SignatureValidationReport"

// A valid signature: its value, its signed bytes and its chain, as
// independent readers of the file find them, are what the report says.
func TestETSIReportValidSignature(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(2, true), Options{Reason: "Acte authentique", Location: "Paris"})
	rep := verifyFile(t, out, VerifyOptions{Anchors: anchorsOf(p.root.Raw)})
	if !rep.Signatures[0].Valid() {
		t.Fatalf("not valid: %+v", rep.Signatures[0])
	}
	x := etsiReport(t, out, rep)

	_, signed, contents, err := testenv.LastSignature(mustRead(t, out))
	if err != nil {
		t.Fatal(err)
	}
	n, err := testenv.CMSLength(contents)
	if err != nil {
		t.Fatal(err)
	}
	der := contents[:n]
	off, sl, err := testenv.SignatureValue(der)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(signed)
	leaf, issuing, root := idOf("C-", p.leaf.Raw), idOf("C-", p.issuing.Raw), idOf("C-", p.root.Raw)
	wantXQ(t, x, map[string]string{
		"count(" + svr + ")": "1",
		"string(" + svr + "/SignatureValidationStatus/MainIndication)":                            mainTotalPassed,
		"count(" + svr + "/SignatureValidationStatus/SubIndication)":                              "0",
		"string(" + svr + "/SignatureIdentifier/@id)":                                             idOf("S-", der),
		"string(" + svr + "/SignatureIdentifier/SignatureValue)":                                  b64std(der[off : off+sl]),
		"string(" + svr + "/SignersDocument/DigestAlgAndValue/DigestValue)":                       b64std(sum[:]),
		"string(" + svr + "/SignersDocument/DigestAlgAndValue/DigestMethod/@Algorithm)":           "http://www.w3.org/2001/04/xmlenc#sha256",
		"string(" + svr + "/SignersDocument/SignersDocumentRef/@VOReference)":                     signedDataID(signed),
		"string(" + svr + "//CertificateChain/SigningCertificate/@VOReference)":                   leaf,
		"string(" + svr + "//CertificateChain/IntermediateCertificate/@VOReference)":              issuing,
		"string(" + svr + "//CertificateChain/TrustAnchor/@VOReference)":                          root,
		"string(" + svr + "/SignerInformation/SignerCertificate/@VOReference)":                    leaf,
		"string(" + svr + "/SignerInformation/Signer)":                                            "Marie Dupont",
		"string(" + svr + "//CryptoInformation/Algorithm)":                                        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
		"string(" + svr + "//CryptoInformation/SecureAlgorithm)":                                  "true",
		"string(" + svr + "/SignatureAttributes/Reason/ReasonElement)":                            "Acte authentique",
		"string(" + svr + "/SignatureAttributes/SignatureProductionPlace/AddressString)":          "Paris",
		"string(" + svr + "/SignatureAttributes/SubFilter/SubFilterElement)":                      "ETSI.CAdES.detached",
		"string(" + svr + "/SignatureAttributes/SigningCertificate/AttributeObject/@VOReference)": leaf,
		"string(" + svr + "/SignatureAttributes/MessageDigest/Digest)":                            b64std(sum[:]),
		"string(" + svr + "/SignatureAttributes/Filter/Filter)":                                   "Adobe.PPKLite",
		"string(//ValidationObject[@id='" + leaf + "']/ValidationObjectRepresentation/base64)":    b64std(p.leaf.Raw),
		"string(//ValidationObject[@id='" + root + "']/ObjectType)":                               objCertificate,
		"string(//SignatureValidator/DigitalId/Other)":                                            "Paraphe",
		"string(" + svr + "/ValidationTimeInfo/ValidationTime)":                                   rep.ValidationTime.UTC().Format(time.RFC3339Nano),
		"string(" + svr + "/ValidationTimeInfo/BestSignatureTime/TypeOfProof)":                    poeValidation,
	})
	m := regexp.MustCompile(`/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]`).FindAllSubmatch(mustRead(t, out), -1)
	if len(m) == 0 {
		t.Fatal("no /ByteRange")
	}
	var want []string
	for _, n := range m[len(m)-1][1:] {
		v, _ := strconv.ParseInt(string(n), 10, 64)
		want = append(want, strconv.FormatInt(v, 10))
	}
	if got := xq(t, x, "string("+svr+"/SignatureAttributes/ByteRange)"); got != strings.Join(want, " ") {
		t.Errorf("ByteRange %q, want %q", got, strings.Join(want, " "))
	}
}

// wantReferencesResolve checks that every VOReference names an id of the
// report (xmllint checks their form, not that they lead somewhere).
func wantReferencesResolve(t *testing.T, x string) {
	t.Helper()
	doc, _ := os.ReadFile(x)
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(` id="([^"]+)"`).FindAllSubmatch(doc, -1) {
		ids[string(m[1])] = true
	}
	refs := regexp.MustCompile(` VOReference="([^"]*)"`).FindAllSubmatch(doc, -1)
	if len(refs) == 0 {
		t.Fatal("no references at all")
	}
	for _, m := range refs {
		for _, id := range strings.Fields(string(m[1])) {
			if !ids[id] {
				t.Errorf("VOReference %s names nothing in the report", id)
			}
		}
	}
}

// A signed file changed after signing still gets a report that passes the
// schema, with the verdict: one byte of the signed range changed is
// TOTAL-FAILED/HASH_FAILURE; a /Contents that is no longer a SignedData is
// TOTAL-FAILED/FORMAT_FAILURE, reported with what the dictionary says.
func TestETSIReportBrokenSignatures(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, false), Options{Reason: "Bail"})
	for _, c := range []struct {
		name   string
		change func(data []byte, br [4]int)
		want   map[string]string
	}{
		{"tampered", func(data []byte, _ [4]int) { data[bytes.Index(data, []byte("Page 1 of the deed"))] = 'X' }, map[string]string{
			"string(" + svr + "/SignatureValidationStatus/SubIndication)": subIndicationPrefix + "HASH_FAILURE",
		}},
		{"garbled", func(data []byte, br [4]int) { copy(data[br[1]+1:], strings.Repeat("7f", 64)) }, map[string]string{
			"string(" + svr + "/SignatureValidationStatus/SubIndication)":  subIndicationPrefix + "FORMAT_FAILURE",
			"string(" + svr + "/SignatureAttributes/Reason/ReasonElement)": "Bail",
			"count(" + svr + "/SignatureIdentifier/SignatureValue)":        "0",
			"count(" + svr + "/SignerInformation)":                         "0",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := mustRead(t, out)
			br, _, _, err := testenv.LastSignature(data)
			if err != nil {
				t.Fatal(err)
			}
			c.change(data, br)
			bad := filepath.Join(t.TempDir(), c.name+".pdf")
			os.WriteFile(bad, data, 0o644)
			rep := verifyFile(t, bad, VerifyOptions{Anchors: anchorsOf(p.root.Raw)})
			x := etsiReport(t, bad, rep)
			c.want["string("+svr+"/SignatureValidationStatus/MainIndication)"] = mainTotalFailed
			wantXQ(t, x, c.want)
		})
	}
}

// Intact, from a CA nobody trusts: INDETERMINATE, NO_CERTIFICATE_CHAIN_FOUND,
// and no trust anchor named.
func TestETSIReportUntrusted(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, false), Options{})
	rep := verifyFile(t, out, VerifyOptions{})
	x := etsiReport(t, out, rep)
	wantXQ(t, x, map[string]string{
		"string(" + svr + "/SignatureValidationStatus/MainIndication)": mainIndeterminate,
		"string(" + svr + "/SignatureValidationStatus/SubIndication)":  subIndicationPrefix + "NO_CERTIFICATE_CHAIN_FOUND",
		"count(//TrustAnchor)": "0",
		"string(" + svr + "//CertificateChain/SigningCertificate/@VOReference)":       idOf("C-", p.leaf.Raw),
		"string(//ValidationObject[@id='" + idOf("C-", p.leaf.Raw) + "']/ObjectType)": objCertificate,
	})
}

// A B-T signature from the real CA's time-stamping authority, and the
// same at B-LT: the time-stamp token is a validation object that openssl
// accepts as a time-stamp of the reported signature value, and it is the
// signature's best proof of time; the /DSS's data are objects too.
func TestETSIReportTimestamped(t *testing.T) {
	testenv.Require(t, "openssl")
	srv, key, chain, hc := caPKI(t)
	for _, level := range []Level{LevelT, LevelLT} {
		t.Run(string(level), func(t *testing.T) {
			s := &Signer{Key: key, Chain: chain, Opts: Options{Level: level, TSA: srv.URL + "/tsa", HTTP: hc}}
			out := signWith(t, s, makePDF(1, false))
			rep := verifyFile(t, out, VerifyOptions{Anchors: anchorsOf(srv.Root.Raw)})
			r := rep.Signatures[0]
			if !r.Valid() || r.TimestampTime == nil || r.ProofTime == nil {
				t.Fatalf("report %+v", r)
			}
			x := etsiReport(t, out, rep)
			tid := xq(t, x, "string("+svr+"/SignatureAttributes/SignatureTimeStamp/AttributeObject/@VOReference)")
			if !strings.HasPrefix(tid, "T-") {
				t.Fatalf("no signature time-stamp attribute (%q)", tid)
			}
			wantXQ(t, x, map[string]string{
				"string(//ValidationObject[@id='" + tid + "']/ObjectType)":                                                objTimestamp,
				"string(//ValidationObject[@id='" + tid + "']/ValidationReport/SignatureValidationStatus/MainIndication)": mainPassed,
				"string(" + svr + "/ValidationTimeInfo/BestSignatureTime/POEObject/@VOReference)":                         tid,
				"string(" + svr + "/ValidationTimeInfo/BestSignatureTime/POETime)":                                        r.ProofTime.UTC().Format(time.RFC3339Nano),
				"string(" + svr + "/SignatureAttributes/SignatureTimeStamp/TimeStampValue)":                               r.TimestampTime.UTC().Format(time.RFC3339Nano),
				"string(//ValidationObject[@id='" + tid + "']/POEProvisioning/SignatureReference/PAdESFieldName)":         r.Field,
			})
			tok, _ := base64.StdEncoding.DecodeString(xq(t, x, "string(//ValidationObject[@id='"+tid+"']/ValidationObjectRepresentation/base64)"))
			if idOf("T-", tok) != tid {
				t.Fatalf("the token's id is not its SHA-256")
			}
			sigValue, _ := base64.StdEncoding.DecodeString(xq(t, x, "string("+svr+"/SignatureIdentifier/SignatureValue)"))
			opensslTimestampOf(t, tok, sigValue, srv.Root, srv.Issuer)
			if level == LevelLT {
				if xq(t, x, "string("+svr+"/SignatureAttributes/DSS/OCSPs/@VOReference)") == "" && xq(t, x, "string("+svr+"/SignatureAttributes/DSS/CRLs/@VOReference)") == "" {
					t.Fatal("a B-LT signature's report names no /DSS revocation data")
				}
				if xq(t, x, "count(//ValidationObject[ObjectType='"+objOCSP+"'])") == "0" && xq(t, x, "count(//ValidationObject[ObjectType='"+objCRL+"'])") == "0" {
					t.Fatal("no revocation data among the validation objects")
				}
			}
		})
	}
}

// opensslTimestampOf checks with openssl ts that token is a time-stamp,
// by a unit chaining to root, over SHA-256(data).
func opensslTimestampOf(t *testing.T, token, data []byte, root, issuer *x509.Certificate) {
	t.Helper()
	dir := t.TempDir()
	tok, ca := filepath.Join(dir, "token.der"), filepath.Join(dir, "ca.pem")
	os.WriteFile(tok, token, 0o644)
	writePEM(t, ca, root, issuer)
	sum := sha256.Sum256(data)
	out, err := exec.Command("openssl", "ts", "-verify", "-token_in", "-in", tok, "-digest", hex.EncodeToString(sum[:]),
		"-sha256", "-CAfile", ca).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
}

// A document time-stamp (ETSI.RFC3161) from the real CA's authority gets
// its own SignatureValidationReport, whose identifier is its imprint: the
// SHA-256 of the signed bytes.
func TestETSIReportDocumentTimestamp(t *testing.T) {
	srv, _, _, hc := caPKI(t)
	u, err := testenv.NewSignatureUpdate(testenv.SigDict{SubFilter: subRFC3161})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := (&tsaClient{url: srv.URL + "/tsa", http: hc}).stamp(context.Background(), u.SignedBytes())
	if err != nil {
		t.Fatal(err)
	}
	data, err := u.Embed(tok)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "timestamped.pdf")
	os.WriteFile(path, data, 0o644)
	// The token carries the unit's certificate, not the root: trusted as
	// the user's own certificate.
	rep := verifyFile(t, path, VerifyOptions{Trust: []Anchor{{Cert: srv.Root, Source: SourceUser}}})
	r := rep.Signatures[0]
	if r.Kind != KindDocumentTimestamp || !r.Valid() {
		t.Fatalf("report %+v", r)
	}
	x := etsiReport(t, path, rep)
	sum := sha256.Sum256(u.SignedBytes())
	wantXQ(t, x, map[string]string{
		"count(" + svr + ")": "1",
		"string(" + svr + "/SignatureValidationStatus/MainIndication)":                                            mainTotalPassed,
		"string(" + svr + "/SignatureIdentifier/DigestAlgAndValue/DigestValue)":                                   b64std(sum[:]),
		"string(" + svr + "/SignatureAttributes/SubFilter/SubFilterElement)":                                      subRFC3161,
		"count(" + svr + "/SignatureAttributes/SigningTime)":                                                      "0",
		"string(//ValidationObject[@id='" + idOf("T-", tok) + "']/ObjectType)":                                    objTimestamp,
		"string(//ValidationObject[@id='" + idOf("T-", tok) + "']/POEProvisioning/ValidationObject/@VOReference)": signedDataID(u.SignedBytes()),
		"string(" + svr + "/SignerInformation/SignerCertificate/@VOReference)":                                    idOf("C-", r.Certificate.Raw),
	})
}

// Signatures as other producers write them (pdfsig, node-signpdf, openssl
// with the legacy sub-filters, RSA-PSS, Ed25519, BER…): each report passes
// the schema, carries the signature value an independent walker finds in
// the CMS, and calls the algorithm secure exactly when it is not SHA-1.
func TestETSIReportOtherProducers(t *testing.T) {
	testenv.Slow(t, "every other producer's signatures")
	env := &producersEnv{db: testenv.NewNSSDB(t), nick: map[*testenv.SignerPKI]string{}}
	pkis := map[testenv.KeyType]*testenv.SignerPKI{}
	for _, pr := range otherProducers() {
		if pkis[pr.key] == nil {
			pkis[pr.key] = testenv.NewSignerPKI(t, pr.key)
			env.db.Trust(t, pkis[pr.key].Root)
		}
	}
	for _, pr := range otherProducers() {
		t.Run(pr.name, func(t *testing.T) {
			p := pkis[pr.key]
			file := filepath.Join(t.TempDir(), "signed.pdf")
			if err := pr.sign(t, env, p, file); err != nil {
				t.Fatalf("the producer could not sign: %v", err)
			}
			rep := verifyFile(t, file, VerifyOptions{Trust: []Anchor{{Cert: p.Root, Source: SourcePolicy}}})
			x := etsiReport(t, file, rep)
			_, _, contents, err := testenv.LastSignature(mustRead(t, file))
			if err != nil {
				t.Fatal(err)
			}
			off, n, err := signatureValueIn(pr, contents)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"string(" + svr + "/SignatureIdentifier/SignatureValue)":               b64std(contents[off : off+n]),
				"string(" + svr + "/SignatureValidationStatus/MainIndication)":         etsiStatus(rep.Signatures[0].Indication, "", true).Main,
				"string(" + svr + "/SignatureAttributes/SubFilter/SubFilterElement)":   pr.subFilter,
				"string(" + svr + "/SignerInformation/SignerCertificate/@VOReference)": idOf("C-", p.Leaf.Raw),
			}
			if xq(t, x, "count("+svr+"//CryptoInformation)") == "1" {
				want["string("+svr+"//CryptoInformation/SecureAlgorithm)"] = strconv.FormatBool(!pr.weak)
			} else if !strings.Contains(pr.name, "SHA3") {
				// SHA-3 with RSA has no XML Signature URI the report can
				// be sure of; every other pairing has one.
				t.Error("no CryptoInformation")
			}
			wantXQ(t, x, want)
		})
	}
}

// appendDocTimestamp adds to the signed PDF at in a document time-stamp
// (an incremental update with an ETSI.RFC3161 signature dictionary in a
// new field) from tsa, as a B-LTA signer does, and returns the new file.
func appendDocTimestamp(t *testing.T, in string, tsa *tsaClient) string {
	t.Helper()
	src := mustRead(t, in)
	f, doc := sigRefOfNoSig(t, src) // the file and its document, read
	const room = 8192
	u := newUpdate(f)
	ref := u.add(cos.Dict{"Type": cos.Name("DocTimeStamp"), "Filter": cos.Name("Adobe.PPKLite"), "SubFilter": cos.Name(subRFC3161),
		"ByteRange": cos.Raw(byteRangePlaceholder), "Contents": cos.Raw("<" + strings.Repeat("0", 2*room) + ">")})
	if _, err := doc.addSignatureField(u, ref, Options{}, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	base := int64(len(src))
	data, at, xrefAt := u.serialize(base)
	data = finish(data, base+int64(xrefAt))
	brAt := at[ref.Num] + bytes.Index(data[at[ref.Num]:], []byte(byteRangePlaceholder))
	cAt := at[ref.Num] + bytes.Index(data[at[ref.Num]:], []byte("/Contents <")) + len("/Contents ")
	cEnd := cAt + 2 + 2*room
	total := base + int64(len(data))
	copy(data[brAt:], fmt.Sprintf("[0 %010d %010d %010d]", base+int64(cAt), base+int64(cEnd), total-base-int64(cEnd)))
	signed := append(append(append([]byte{}, src...), data[:cAt]...), data[cEnd:]...)
	token, _, err := tsa.stamp(context.Background(), signed)
	if err != nil {
		t.Fatal(err)
	}
	hex.Encode(data[cAt+1:], token)
	out := filepath.Join(t.TempDir(), "lta.pdf")
	if err := os.WriteFile(out, append(src, data...), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// A B-LT signature under a document time-stamp (B-LTA): the signature
// names the time-stamp (DocTimeStamp), the time-stamp's object says what
// it proves existed (the signature's signed data, its own time-stamp, the
// field), and both have their report, in the file's order.
func TestETSIReportLTA(t *testing.T) {
	srv, key, chain, hc := caPKI(t)
	s := &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelLT, TSA: srv.URL + "/tsa", HTTP: hc}}
	lta := appendDocTimestamp(t, signWith(t, s, makePDF(1, false)), &tsaClient{url: srv.URL + "/tsa", http: hc})
	rep := verifyFile(t, lta, VerifyOptions{Trust: []Anchor{{Cert: srv.Root, Source: SourceUser}}})
	if len(rep.Signatures) != 2 {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	sig, dts := rep.Signatures[0], rep.Signatures[1]
	if sig.Kind != KindSignature || dts.Kind != KindDocumentTimestamp || !sig.Valid() || !dts.Valid() || sig.Level != LevelLTA {
		t.Fatalf("reports %+v\n%+v", sig, dts)
	}
	x := etsiReport(t, lta, rep)
	_, signed, contents, err := testenv.LastSignature(mustRead(t, lta))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := testenv.CMSLength(contents)
	tid := idOf("T-", contents[:n])
	sigTS := xq(t, x, "string("+svr+"[1]/SignatureAttributes/SignatureTimeStamp/AttributeObject/@VOReference)")
	sigData := xq(t, x, "string("+svr+"[1]/SignersDocument/SignersDocumentRef/@VOReference)")
	provides := xq(t, x, "//ValidationObject[@id='"+tid+"']/POEProvisioning/ValidationObject/@VOReference")
	wantXQ(t, x, map[string]string{
		"count(" + svr + ")": "2",
		"string(" + svr + "[1]/SignatureAttributes/DocTimeStamp/AttributeObject/@VOReference)":            tid,
		"string(" + svr + "[1]/SignatureAttributes/DocTimeStamp/TimeStampValue)":                          dts.TimestampTime.UTC().Format(time.RFC3339Nano),
		"string(" + svr + "[2]/SignatureAttributes/SubFilter/SubFilterElement)":                           subRFC3161,
		"string(" + svr + "[2]/SignatureValidationStatus/MainIndication)":                                 mainTotalPassed,
		"string(" + svr + "[2]/SignersDocument/SignersDocumentRef/@VOReference)":                          signedDataID(signed),
		"string(//ValidationObject[@id='" + tid + "']/POEProvisioning/SignatureReference/PAdESFieldName)": sig.Field,
		"string(//ValidationObject[@id='" + tid + "']/POEProvisioning/POETime)":                           dts.TimestampTime.UTC().Format(time.RFC3339Nano),
	})
	for _, want := range []string{signedDataID(signed), sigData, sigTS} {
		if !strings.Contains(provides, `"`+want+`"`) {
			t.Errorf("the document time-stamp does not say it proves %s existed:\n%s", want, provides)
		}
	}
}

// The same from other producers: iText 5 signs B-T and extends it to
// B-LT, iText then PDFBox add document time-stamps over it. The report
// holds the signature and both time-stamps, the signature names both, and
// the later time-stamp says it proves the earlier one existed.
func TestETSIReportJavaLTA(t *testing.T) {
	j := testenv.Java(t)
	srv, key, chain, _ := caPKI(t)
	p12, pw := testenv.WritePKCS12(t, key, chain)
	rootPEM := testenv.WriteCertsPEM(t, srv.Root)
	dir := t.TempDir()
	f := func(name string) string { return filepath.Join(dir, name) }
	os.WriteFile(f("deed.pdf"), makePDF(1, false), 0o644)
	tsa := srv.URL + "/tsa"
	jobs := []testenv.JavaJob{
		{Op: "sign", Producer: "itext", In: f("deed.pdf"), Out: f("bt.pdf"), PKCS12: p12, Password: pw,
			SubFilter: "ETSI.CAdES.detached", TSA: tsa, TLSRoot: rootPEM, Field: "Notary"},
		{Op: "ltv", Producer: "itext", In: f("bt.pdf"), Out: f("blt.pdf")},
		{Op: "timestamp", Producer: "itext", In: f("blt.pdf"), Out: f("blta.pdf"), TSA: tsa, TLSRoot: rootPEM, Field: "Archive1"},
		{Op: "timestamp", Producer: "pdfbox", In: f("blta.pdf"), Out: f("chain.pdf"), TSA: tsa, TLSRoot: rootPEM, Field: "Archive2"},
	}
	for i, r := range j.Run(t, jobs...) {
		if err := r.Err(); err != nil {
			t.Fatalf("job %d (%s by %s): %v", i, jobs[i].Op, jobs[i].Producer, err)
		}
	}
	rep := verifyFile(t, f("chain.pdf"), VerifyOptions{Trust: []Anchor{{Cert: srv.Root, Source: SourcePolicy}}})
	if len(rep.Signatures) != 3 {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	x := etsiReport(t, f("chain.pdf"), rep)
	ids := map[string]string{}
	for i, r := range rep.Signatures {
		n := "[" + itoa(i+1) + "]"
		if got, want := xq(t, x, "string("+svr+n+"/SignatureValidationStatus/MainIndication)"), etsiStatus(r.Indication, "", true).Main; got != want {
			t.Errorf("%s: %s, the verifier says %s", r.Field, got, r.Indication)
		}
		if r.Kind == KindDocumentTimestamp {
			ids[r.Field] = "T-" + strings.TrimPrefix(xq(t, x, "string("+svr+n+"/SignatureIdentifier/@id)"), "S-")
		}
	}
	if len(ids) != 2 {
		t.Fatalf("document time-stamps: %v", ids)
	}
	named := xq(t, x, svr+"[1]/SignatureAttributes/DocTimeStamp/AttributeObject/@VOReference")
	later := xq(t, x, "//ValidationObject[@id='"+ids["Archive2"]+"']/POEProvisioning/ValidationObject/@VOReference")
	for _, id := range []string{ids["Archive1"], ids["Archive2"]} {
		if !strings.Contains(named, `"`+id+`"`) {
			t.Errorf("the signature does not name the document time-stamp %s:\n%s", id, named)
		}
	}
	if !strings.Contains(later, `"`+ids["Archive1"]+`"`) {
		t.Errorf("the later time-stamp does not say it proves the earlier one:\n%s", later)
	}
}

// The signed PDFs of the EU's DSS (its own test resources): every report
// passes the schema, has one SignatureValidationReport per signature and
// document time-stamp with the verifier's verdict, and refers only to
// objects it holds. (The copy here holds B-B signatures only: document
// time-stamps and /DSS data are made by the tests above.)
func TestETSIReportDSSCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "dss-samples", "*.pdf"))
	if len(files) == 0 {
		testenv.Missing(t, "no ../shared/corpus/dss-samples")
	}
	seen := map[string]int{}
	for _, f := range files {
		rep, err := Verify(context.Background(), f, VerifyOptions{})
		if errors.Is(err, ErrNoSignature) || errors.Is(err, ErrPassword) || errors.Is(err, ErrEncrypted) || errors.Is(err, ErrDamaged) {
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			x := etsiReport(t, f, rep)
			if got := xq(t, x, "count("+svr+")"); got != itoa(len(rep.Signatures)) {
				t.Fatalf("%s signature reports for %d signatures", got, len(rep.Signatures))
			}
			for i, r := range rep.Signatures {
				main := xq(t, x, "string("+svr+"["+itoa(i+1)+"]/SignatureValidationStatus/MainIndication)")
				if want := etsiStatus(r.Indication, "", true).Main; main != want {
					t.Errorf("signature %d: %s, the verifier says %s", i+1, main, r.Indication)
				}
				seen[string(r.Kind)]++
			}
		})
	}
	t.Logf("reports written for: %v", seen)
	if seen[string(KindSignature)] < 10 {
		t.Errorf("only %d signatures of the corpus were reported", seen[string(KindSignature)])
	}
}

// The schema here is the one DSS writes to: DSS's own sample report (a
// PAdES signature with its time-stamp, OCSP responses and chains, from the
// tests of its specs-validation-report module) passes it, and its objects
// are named as ours are.
func TestETSISchemaAcceptsDSSReport(t *testing.T) {
	const fixture = "testdata/etsi/dss-validation-report.xml"
	if ok, out := schemaCheck(t, fixture); !ok {
		t.Fatalf("xmllint refuses DSS's report:\n%s", out)
	}
	wantReferencesResolve(t, fixture)
	wantIDsAreDigests(t, fixture)
	doc, _ := os.ReadFile(fixture)
	if n := len(objectRe.FindAllIndex(doc, -1)); n != 10 {
		t.Fatalf("%d objects with their DER in DSS's report, want 10", n)
	}
}

// The schema check is no formality: xmllint refuses reports that lack a
// required element, break the order, carry a malformed time or speak
// another version's namespace.
func TestETSISchemaRefusesWrongReports(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, false), Options{})
	rep := verifyFile(t, out, VerifyOptions{Anchors: anchorsOf(p.root.Raw)})
	good, _ := os.ReadFile(etsiReport(t, out, rep))
	mainRe := regexp.MustCompile(`\s*<MainIndication>[^<]*</MainIndication>`)
	timeRe := regexp.MustCompile(`<ValidationTime>[^<]*</ValidationTime>`)
	hashOnlyRe := regexp.MustCompile(`(<HashOnly>[^<]*</HashOnly>)(\s*<DocHashOnly>[^<]*</DocHashOnly>)`)
	cases := map[string]func([]byte) []byte{
		"no MainIndication": func(b []byte) []byte { return mainRe.ReplaceAll(b, nil) },
		"bad time": func(b []byte) []byte {
			return timeRe.ReplaceAll(b, []byte("<ValidationTime>yesterday</ValidationTime>"))
		},
		"out of order": func(b []byte) []byte {
			return hashOnlyRe.ReplaceAll(b, []byte("$2$1"))
		},
		"wrong namespace": func(b []byte) []byte {
			return bytes.Replace(b, []byte("http://uri.etsi.org/19102/v1.2.1#"), []byte("http://uri.etsi.org/19102/v1.4.1#"), 1)
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			bad := mutate(append([]byte{}, good...))
			if bytes.Equal(bad, good) {
				t.Fatal("the mutation changed nothing")
			}
			path := filepath.Join(t.TempDir(), "bad.xml")
			os.WriteFile(path, bad, 0o644)
			if ok, msg := schemaCheck(t, path); ok {
				t.Fatalf("xmllint accepts a wrong report:\n%s", bad)
			} else {
				t.Log(strings.TrimSpace(msg))
			}
		})
	}
}

// A report is only written against the file it was made from, and nothing
// is written when it is not.
func TestETSIReportOtherFile(t *testing.T) {
	p := newPKI(t)
	_, one := signBytes(t, p, makePDF(1, false), Options{})
	rep := verifyFile(t, one, VerifyOptions{})
	other := mustRead(t, writeTemp(t, makePDF(1, false)))
	var buf bytes.Buffer
	err := rep.WriteETSI(&buf, bytes.NewReader(other), int64(len(other)), ETSIOptions{})
	if !errors.Is(err, ErrReportMismatch) || buf.Len() != 0 {
		t.Fatalf("err %v, %d bytes written", err, buf.Len())
	}
}

// FuzzWriteETSI: whatever a file holds, once Verify has read it the report
// of it is written without error and is well-formed XML whose references
// all lead somewhere (xmllint is too slow to run on every input; the tests
// above run it on the seeds' kinds of files).
func FuzzWriteETSI(f *testing.F) {
	p := newPKI(f)
	in := filepath.Join(f.TempDir(), "deed.pdf")
	os.WriteFile(in, makePDF(1, true), 0o644)
	s := &Signer{Key: p.key, Chain: p.chain(), Opts: Options{Reason: "Vente"}}
	if _, err := s.SignFile(context.Background(), in, OutputName(in)); err != nil {
		f.Fatal(err)
	}
	signed, err := os.ReadFile(OutputName(in))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	u, err := testenv.NewSignatureUpdate(testenv.SigDict{SubFilter: subRFC3161})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(u.PDF) // a document time-stamp whose token is all zeros
	idRe, refRe := regexp.MustCompile(` id="([^"]+)"`), regexp.MustCompile(` VOReference="([^"]*)"`)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := VerifyReader(context.Background(), bytes.NewReader(data), int64(len(data)), "fuzz.pdf", VerifyOptions{})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := rep.WriteETSI(&buf, bytes.NewReader(data), int64(len(data)), ETSIOptions{}); err != nil {
			t.Fatalf("WriteETSI on the file Verify read: %v", err)
		}
		dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("not well-formed: %v\n%s", err, buf.Bytes())
			}
		}
		ids := map[string]bool{}
		for _, m := range idRe.FindAllSubmatch(buf.Bytes(), -1) {
			ids[string(m[1])] = true
		}
		for _, m := range refRe.FindAllSubmatch(buf.Bytes(), -1) {
			for _, id := range strings.Fields(string(m[1])) {
				if !ids[id] {
					t.Fatalf("VOReference %s leads nowhere", id)
				}
			}
			if len(bytes.TrimSpace(m[1])) == 0 {
				t.Fatal("an empty VOReference")
			}
		}
	})
}
