// Package tltest builds, signs and serves ETSI TS 119 612 trusted lists for
// tests: a List of Trusted Lists and national lists in the real schema
// (namespace http://uri.etsi.org/02231/v2#, the real element names),
// signed as member states sign them (an enveloped XAdES-BES signature with
// a reference to the whole document and one to the SignedProperties), on
// an httptest server on loopback. It is for tests only.
//
// A typical test trusts a CA through a granted service:
//
//	eu := tltest.NewEU(t, &tltest.List{Territory: "FR", Providers: []tltest.Provider{{
//		Name: "Test TSP",
//		Services: []tltest.Service{{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted,
//			Start: start, Certs: []*x509.Certificate{ca}}},
//	}}})
//	tl := &trust.TrustedLists{URL: eu.LOTLURL(), Pins: eu.Pins(), Cache: t.TempDir(), Client: eu.Client()}
package tltest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math/big"
	"testing"
	"time"
)

// Service types and statuses (ETSI TS 119 612 v2.1.1, D.5).
const (
	CAQC  = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
	CAPKC = "http://uri.etsi.org/TrstSvc/Svctype/CA/PKC"
	QTST  = "http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST"
	TSA   = "http://uri.etsi.org/TrstSvc/Svctype/TSA"
	OCSP  = "http://uri.etsi.org/TrstSvc/Svctype/Certstatus/OCSP/QC"

	Granted           = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
	Withdrawn         = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"
	UnderSupervision  = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/undersupervision"
	Accredited        = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/accredited"
	SupervisionCeased = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/supervisionceased"
	Recognised        = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/recognisedatnationallevel"

	ForESignatures       = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSignatures"
	ForESeals            = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSeals"
	ForWebAuthentication = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForWebSiteAuthentication"

	TSLXML = "application/vnd.etsi.tsl+xml"
	TSLPDF = "application/pdf"

	typeGeneric = "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric"
	typeLOTL    = "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUlistofthelists"
)

// List is a trusted list to build: a national list, or a LOTL when it has
// pointers.
type List struct {
	Territory string // "FR"; "EU" for a LOTL
	// Sequence is the TSLSequenceNumber (zero: 1).
	Sequence int
	// Issued and NextUpdate default to now and six months later; set
	// NoNextUpdate for a closed list.
	Issued, NextUpdate time.Time
	NoNextUpdate       bool
	// ID, when set, is the root's Id attribute.
	ID        string
	Pointers  []Pointer
	Providers []Provider
	// SchemeURIs are the SchemeInformationURI entries: for a LOTL, its
	// pivots (newest first) and the Official Journal notice.
	SchemeURIs []string
	// PI is put before the root element when set (a processing
	// instruction such as `xml-stylesheet type="text/xsl" href="tl.xsl"`).
	PI string
}

// Pointer is an OtherTSLPointer.
type Pointer struct {
	Territory, Location string
	Signers             []*x509.Certificate
	// MimeType defaults to TSLXML.
	MimeType string
	// LOTL marks the LOTL's pointer to itself.
	LOTL bool
}

// Provider is a trust service provider.
type Provider struct {
	Name     string
	Services []Service
}

// Service is a trust service with its current status and its history.
type Service struct {
	Type, Name, Status string
	Start              time.Time
	Certs              []*x509.Certificate
	// Additional are AdditionalServiceInformation URIs (ForESignatures...).
	Additional []string
	History    []History
}

// History is an earlier status of a service; Type defaults to the
// service's.
type History struct {
	Type, Status string
	Start        time.Time
	Additional   []string
}

// XML returns the list, unsigned.
func (l *List) XML() []byte {
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	issued, next := l.Issued, l.NextUpdate
	if issued.IsZero() {
		issued = time.Now().UTC().Truncate(time.Second)
	}
	if next.IsZero() {
		next = issued.AddDate(0, 6, 0)
	}
	seq := l.Sequence
	if seq == 0 {
		seq = 1
	}
	typ := typeGeneric
	if len(l.Pointers) > 0 && l.Territory == "EU" {
		typ = typeLOTL
	}
	w(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if l.PI != "" {
		w("<?%s?>\n", l.PI)
	}
	w(`<TrustServiceStatusList xmlns="http://uri.etsi.org/02231/v2#" xmlns:ns2="http://www.w3.org/2000/09/xmldsig#"`)
	w(` xmlns:ns3="http://uri.etsi.org/02231/v2/additionaltypes#" xmlns:ns4="http://uri.etsi.org/01903/v1.3.2#"`)
	w(` xmlns:ns5="http://uri.etsi.org/TrstSvc/SvcInfoExt/eSigDir-1999-93-EC-TrustedList/#" TSLTag="http://uri.etsi.org/19612/TSLTag"`)
	if l.ID != "" {
		w(` Id="%s"`, esc(l.ID))
	}
	w(">\n  <SchemeInformation>\n")
	w("    <TSLVersionIdentifier>5</TSLVersionIdentifier>\n")
	w("    <TSLSequenceNumber>%d</TSLSequenceNumber>\n", seq)
	w("    <TSLType>%s</TSLType>\n", typ)
	w("    <SchemeOperatorName>\n      <Name xml:lang=\"en\">%s supervisory body</Name>\n    </SchemeOperatorName>\n", esc(l.Territory))
	w("    <SchemeName>\n      <Name xml:lang=\"en\">%s:Trusted list for tests</Name>\n    </SchemeName>\n", esc(l.Territory))
	if len(l.SchemeURIs) > 0 {
		w("    <SchemeInformationURI>\n")
		for _, u := range l.SchemeURIs {
			w("      <URI xml:lang=\"en\">%s</URI>\n", esc(u))
		}
		w("    </SchemeInformationURI>\n")
	}
	w("    <StatusDeterminationApproach>http://uri.etsi.org/TrstSvc/TrustedList/StatusDetn/EUappropriate</StatusDeterminationApproach>\n")
	w("    <SchemeTerritory>%s</SchemeTerritory>\n", esc(l.Territory))
	w("    <HistoricalInformationPeriod>65535</HistoricalInformationPeriod>\n")
	writePointers(&b, l.Pointers)
	w("    <ListIssueDateTime>%s</ListIssueDateTime>\n", issued.UTC().Format(time.RFC3339))
	if l.NoNextUpdate {
		w("    <NextUpdate/>\n")
	} else {
		w("    <NextUpdate>\n      <dateTime>%s</dateTime>\n    </NextUpdate>\n", next.UTC().Format(time.RFC3339))
	}
	w("  </SchemeInformation>\n")
	writeProviders(&b, l.Providers)
	w("</TrustServiceStatusList>\n")
	return b.Bytes()
}

// writePointers writes a list of lists' pointers to the lists.
func writePointers(b *bytes.Buffer, pointers []Pointer) {
	if len(pointers) == 0 {
		return
	}
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	w("    <PointersToOtherTSL>\n")
	for _, p := range pointers {
		w("      <OtherTSLPointer>\n        <ServiceDigitalIdentities>\n")
		for _, c := range p.Signers {
			w("          <ServiceDigitalIdentity>\n            <DigitalId>\n")
			w("              <X509Certificate>%s</X509Certificate>\n", base64.StdEncoding.EncodeToString(c.Raw))
			w("            </DigitalId>\n          </ServiceDigitalIdentity>\n")
		}
		w("        </ServiceDigitalIdentities>\n")
		w("        <TSLLocation>%s</TSLLocation>\n", esc(p.Location))
		ptype, mime := typeGeneric, p.MimeType
		if p.LOTL {
			ptype = typeLOTL
		}
		if mime == "" {
			mime = TSLXML
		}
		w("        <AdditionalInformation>\n")
		w("          <OtherInformation>\n            <TSLType>%s</TSLType>\n          </OtherInformation>\n", ptype)
		w("          <OtherInformation>\n            <SchemeTerritory>%s</SchemeTerritory>\n          </OtherInformation>\n", esc(p.Territory))
		w("          <OtherInformation>\n            <ns3:MimeType>%s</ns3:MimeType>\n          </OtherInformation>\n", esc(mime))
		w("        </AdditionalInformation>\n      </OtherTSLPointer>\n")
	}
	w("    </PointersToOtherTSL>\n")
}

// writeProviders writes the trust service providers and their services,
// with the services' history.
func writeProviders(b *bytes.Buffer, providers []Provider) {
	if len(providers) == 0 {
		return
	}
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	w("  <TrustServiceProviderList>\n")
	for _, p := range providers {
		w("    <TrustServiceProvider>\n      <TSPInformation>\n")
		w("        <TSPName>\n          <Name xml:lang=\"en\">%s</Name>\n        </TSPName>\n", esc(p.Name))
		w("      </TSPInformation>\n      <TSPServices>\n")
		for _, s := range p.Services {
			w("        <TSPService>\n          <ServiceInformation>\n")
			writeServiceInformation(b, "            ", s.Type, s.Name, s.Status, s.Start, s.Certs, s.Additional)
			w("          </ServiceInformation>\n")
			if len(s.History) > 0 {
				w("          <ServiceHistory>\n")
				for _, h := range s.History {
					typ := h.Type
					if typ == "" {
						typ = s.Type
					}
					w("            <ServiceHistoryInstance>\n")
					writeServiceInformation(b, "              ", typ, s.Name, h.Status, h.Start, nil, h.Additional)
					w("            </ServiceHistoryInstance>\n")
				}
				w("          </ServiceHistory>\n")
			}
			w("        </TSPService>\n")
		}
		w("      </TSPServices>\n    </TrustServiceProvider>\n")
	}
	w("  </TrustServiceProviderList>\n")
}

func writeServiceInformation(b *bytes.Buffer, in, typ, name, status string, start time.Time, certs []*x509.Certificate, additional []string) {
	w := func(format string, a ...any) { fmt.Fprintf(b, in+format, a...) }
	w("<ServiceTypeIdentifier>%s</ServiceTypeIdentifier>\n", esc(typ))
	w("<ServiceName>\n%s  <Name xml:lang=\"en\">%s</Name>\n%s</ServiceName>\n", in, esc(name), in)
	w("<ServiceDigitalIdentity>\n")
	for _, c := range certs {
		w("  <DigitalId>\n%s    <X509Certificate>%s</X509Certificate>\n%s  </DigitalId>\n", in, base64.StdEncoding.EncodeToString(c.Raw), in)
	}
	if len(certs) == 0 {
		w("  <DigitalId>\n%s    <X509SubjectName>CN=%s</X509SubjectName>\n%s  </DigitalId>\n", in, esc(name), in)
	}
	w("</ServiceDigitalIdentity>\n")
	w("<ServiceStatus>%s</ServiceStatus>\n", esc(status))
	w("<StatusStartingTime>%s</StatusStartingTime>\n", start.UTC().Format(time.RFC3339))
	if len(additional) > 0 {
		w("<ServiceInformationExtensions>\n")
		for _, u := range additional {
			w("  <Extension Critical=\"true\">\n%s    <AdditionalServiceInformation>\n", in)
			w("      <URI xml:lang=\"en\">%s</URI>\n", esc(u))
			w("    </AdditionalServiceInformation>\n%s  </Extension>\n", in)
		}
		w("</ServiceInformationExtensions>\n")
	}
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Signer is a key and certificate that sign lists.
type Signer struct {
	Key  crypto.Signer
	Cert *x509.Certificate
}

// NewSigner returns a self-signed ECDSA P-256 signer named name, valid from
// an hour ago for a year.
func NewSigner(t testing.TB, name string) *Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return newSigner(t, name, key, time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
}

// NewRSASigner is NewSigner with an RSA 2048 key, as most member states use.
func NewRSASigner(t testing.TB, name string) *Signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return newSigner(t, name, key, time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
}

// NewExpiredSigner is NewSigner with a certificate that expired yesterday.
func NewExpiredSigner(t testing.TB, name string) *Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return newSigner(t, name, key, time.Now().AddDate(-1, 0, 0), time.Now().AddDate(0, 0, -1))
}

func newSigner(t testing.TB, name string, key crypto.Signer, from, to time.Time) *Signer {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"Trusted list tests"}, Country: []string{"EU"}},
		NotBefore:    from,
		NotAfter:     to,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		// Trusted list signers carry the TSL signing extended key usage
		// (ETSI TS 119 612, 5.7.1: id-tsl-kp-tslSigning, 0.4.0.2231.3.0).
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{{0, 4, 0, 2231, 3, 0}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{Key: key, Cert: cert}
}
