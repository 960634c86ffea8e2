package trust

import (
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/paraphe/paraphe/pdf"
)

// The parts of ETSI TS 119 612 (v2) this package reads, as encoding/xml
// structs. Element names are matched in any namespace: the schema's
// (http://uri.etsi.org/02231/v2#) for all but MimeType, which lives in
// the additionaltypes namespace.

type multiLang struct {
	Lang  string `xml:"lang,attr"`
	Value string `xml:",chardata"`
}

// english returns the English value of a multilingual name, else the
// first one.
func english(names []multiLang) string {
	for _, n := range names {
		if strings.EqualFold(n.Lang, "en") {
			return strings.TrimSpace(n.Value)
		}
	}
	if len(names) > 0 {
		return strings.TrimSpace(names[0].Value)
	}
	return ""
}

type digitalIdentity struct {
	IDs []struct {
		Certificate string `xml:"X509Certificate"`
	} `xml:"DigitalId"`
}

// certificates returns the X509Certificate values of the identities; those
// that do not parse are returned as errors.
func certificates(ids ...digitalIdentity) (certs []*x509.Certificate, errs []error) {
	for _, id := range ids {
		for _, d := range id.IDs {
			if strings.TrimSpace(d.Certificate) == "" {
				continue // an X509SubjectName or X509SKI
			}
			der, err := decodeBase64(d.Certificate)
			if err == nil {
				var c *x509.Certificate
				if c, err = pdf.ParseCertificate(der); err == nil {
					certs = append(certs, c)
					continue
				}
			}
			errs = append(errs, err)
		}
	}
	return certs, errs
}

type schemeInformation struct {
	Sequence   string      `xml:"TSLSequenceNumber"`
	Type       string      `xml:"TSLType"`
	Operator   []multiLang `xml:"SchemeOperatorName>Name"`
	Territory  string      `xml:"SchemeTerritory"`
	Issued     string      `xml:"ListIssueDateTime"`
	NextUpdate string      `xml:"NextUpdate>dateTime"`
	SchemeURIs []string    `xml:"SchemeInformationURI>URI"`
	Pointers   []struct {
		Identities []digitalIdentity `xml:"ServiceDigitalIdentities>ServiceDigitalIdentity"`
		Location   string            `xml:"TSLLocation"`
		Info       []struct {
			Type      string `xml:"TSLType"`
			Territory string `xml:"SchemeTerritory"`
			MimeType  string `xml:"MimeType"`
		} `xml:"AdditionalInformation>OtherInformation"`
	} `xml:"PointersToOtherTSL>OtherTSLPointer"`
}

type serviceInformation struct {
	Type       string          `xml:"ServiceTypeIdentifier"`
	Names      []multiLang     `xml:"ServiceName>Name"`
	Identity   digitalIdentity `xml:"ServiceDigitalIdentity"`
	Status     string          `xml:"ServiceStatus"`
	Start      string          `xml:"StatusStartingTime"`
	Extensions []struct {
		Additional []string `xml:"AdditionalServiceInformation>URI"`
	} `xml:"ServiceInformationExtensions>Extension"`
}

type trustServiceProvider struct {
	Names    []multiLang `xml:"TSPInformation>TSPName>Name"`
	Services []struct {
		Information serviceInformation   `xml:"ServiceInformation"`
		History     []serviceInformation `xml:"ServiceHistory>ServiceHistoryInstance"`
	} `xml:"TSPServices>TSPService"`
}

// pointer is an OtherTSLPointer: where another list is, what it is, and
// who may sign it.
type pointer struct {
	Location  string
	Territory string
	Type      string
	MimeType  string
	Signers   []*x509.Certificate
}

// list is the scheme information of a verified list.
type list struct {
	Territory  string
	Type       string
	Sequence   int
	Issued     time.Time
	NextUpdate time.Time
	Operator   string
	SchemeURIs []string
	Pointers   []pointer
	Signer     *x509.Certificate
}

const (
	tslTypeLOTL = "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUlistofthelists"
	mimeTSLXML  = "application/vnd.etsi.tsl+xml"
)

// parseList reads what the signature of a verified list covers: its
// scheme information, and, through provider, each of its trust service
// providers one at a time, so that memory holds one provider, not the
// whole list. Only the elements at their place in the schema are read.
func parseList(r io.Reader, provider func(*trustServiceProvider)) (*list, error) {
	dec := xml.NewDecoder(r)
	var l *list
	var path []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotTrustedList, err)
		}
		if _, ok := tok.(xml.EndElement); ok && len(path) > 0 {
			path = path[:len(path)-1]
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		path = append(path, se.Name.Local)
		where := "/" + strings.Join(path, "/")
		switch where {
		case "/TrustServiceStatusList/SchemeInformation":
			if l != nil {
				return nil, fmt.Errorf("%w: two SchemeInformation", ErrNotTrustedList)
			}
			var si schemeInformation
			if err := dec.DecodeElement(&si, &se); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrNotTrustedList, err)
			}
			if l, err = newList(&si); err != nil {
				return nil, err
			}
			path = path[:len(path)-1] // DecodeElement read the end tag
		case "/TrustServiceStatusList/TrustServiceProviderList/TrustServiceProvider":
			var tsp trustServiceProvider
			if err := dec.DecodeElement(&tsp, &se); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrNotTrustedList, err)
			}
			path = path[:len(path)-1]
			if provider != nil {
				provider(&tsp)
			}
		}
	}
	if l == nil {
		return nil, fmt.Errorf("%w: no SchemeInformation", ErrNotTrustedList)
	}
	return l, nil
}

func newList(si *schemeInformation) (*list, error) {
	l := &list{
		Territory: strings.ToUpper(strings.TrimSpace(si.Territory)),
		Type:      strings.TrimSpace(si.Type),
		Operator:  english(si.Operator),
	}
	var err error
	if l.Sequence, err = strconv.Atoi(strings.TrimSpace(si.Sequence)); err != nil {
		return nil, fmt.Errorf("%w: TSLSequenceNumber %q", ErrNotTrustedList, si.Sequence)
	}
	if l.Issued, err = parseTime(si.Issued); err != nil {
		return nil, fmt.Errorf("%w: ListIssueDateTime: %v", ErrNotTrustedList, err)
	}
	if strings.TrimSpace(si.NextUpdate) != "" { // empty: a closed list
		if l.NextUpdate, err = parseTime(si.NextUpdate); err != nil {
			return nil, fmt.Errorf("%w: NextUpdate: %v", ErrNotTrustedList, err)
		}
	}
	for _, u := range si.SchemeURIs {
		l.SchemeURIs = append(l.SchemeURIs, strings.TrimSpace(u))
	}
	for _, p := range si.Pointers {
		ptr := pointer{Location: strings.TrimSpace(p.Location)}
		for _, info := range p.Info {
			if v := strings.TrimSpace(info.Type); v != "" {
				ptr.Type = v
			}
			if v := strings.TrimSpace(info.Territory); v != "" {
				ptr.Territory = strings.ToUpper(v)
			}
			if v := strings.TrimSpace(info.MimeType); v != "" {
				ptr.MimeType = strings.ToLower(v)
			}
		}
		// A pointer's signing certificates that do not parse cannot sign:
		// leaving them out is the safe side.
		ptr.Signers, _ = certificates(p.Identities...)
		l.Pointers = append(l.Pointers, ptr)
	}
	return l, nil
}

var errNoTime = errors.New("empty date")

// parseTime reads an xsd:dateTime; TS 119 612 asks for UTC ("Z"), a time
// without a zone is taken as UTC.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errNoTime
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", s)
}
