package trust

import (
	"bytes"
	"crypto/x509"
	"sort"
	"strings"
	"time"

	"github.com/paraphe/paraphe/pdf"
)

// Service types (ETSI TS 119 612 v2.1.1, D.5) that become anchors.
const (
	svcType = "http://uri.etsi.org/TrstSvc/Svctype/"

	typeCAQC  = svcType + "CA/QC"  // issues qualified certificates
	typeCAPKC = svcType + "CA/PKC" // issues non-qualified certificates
	typeQTST  = svcType + "TSA/QTST"
	typeTSA   = svcType + "TSA"
	// Before 1 July 2016 (TS 119 612 v1), time-stamping for qualified
	// signatures: they appear in the history of today's services.
	typeTSSQC         = svcType + "TSA/TSS-QC"
	typeTSSAdESQCandQ = svcType + "TSA/TSS-AdESQCandQES"
)

// Service statuses. Since eIDAS (1 July 2016) a qualified service is
// "granted" or "withdrawn"; a non-qualified one is "recognised" or
// "deprecated" at national level (or "set"/"deprecated" by national law).
// Before, lists used the Directive 1999/93/EC statuses of TS 119 612 v1;
// the migration the Commission prescribed (and TS 119 612 v2.1.1, 5.5.4,
// reflects) maps "undersupervision", "supervisionincessation" and
// "accredited" to "granted", and "supervisionceased",
// "supervisionrevoked", "accreditationceased" and "accreditationrevoked"
// to "withdrawn". Those are the periods trusted here; any other status,
// known or not, is not trusted.
const svcStatus = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/"

// qualifiedStatuses are "granted" and the older statuses that meant the
// same: a CA/QC service in one of them issued qualified certificates.
var qualifiedStatuses = map[string]bool{
	svcStatus + "granted":                true,
	svcStatus + "undersupervision":       true,
	svcStatus + "supervisionincessation": true,
	svcStatus + "accredited":             true,
}

// nationalStatuses are the trusted statuses of services that are not
// qualified.
var nationalStatuses = map[string]bool{
	svcStatus + "recognisedatnationallevel": true,
	svcStatus + "setbynationallaw":          true,
}

// Additional service information telling what a CA/QC's qualified
// certificates are for.
const (
	svcInfoExt           = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/"
	forESignatures       = svcInfoExt + "ForeSignatures"
	forESeals            = svcInfoExt + "ForeSeals"
	forWebAuthentication = svcInfoExt + "ForWebSiteAuthentication"
)

func usageOf(serviceType string) pdf.Usage {
	switch serviceType {
	case typeCAQC, typeCAPKC:
		return pdf.UsageSignatures
	case typeQTST, typeTSA, typeTSSQC, typeTSSAdESQCandQ:
		return pdf.UsageTimestamps
	}
	return 0
}

// ServiceError is a service of a verified list that could not be turned
// into an anchor (a certificate Go's x509 does not parse, a date that is
// not one). The rest of the list is used.
type ServiceError struct {
	Provider, Service string
	Err               error
}

func (e *ServiceError) Error() string {
	return "trust: " + e.Service + " (" + e.Provider + "): " + e.Err.Error()
}
func (e *ServiceError) Unwrap() error { return e.Err }

// providerAnchors turns a provider's CA and TSA services into anchors of
// a list of the given territory.
func providerAnchors(country string, tsp *trustServiceProvider) ([]pdf.Anchor, []error) {
	provider := english(tsp.Names)
	var anchors []pdf.Anchor
	var errs []error
	for _, s := range tsp.Services {
		cur := &s.Information
		usage := usageOf(strings.TrimSpace(cur.Type))
		if usage == 0 {
			continue // OCSP, CRL, registration services...
		}
		name := english(cur.Names)
		periods, err := servicePeriods(usage, cur, s.History)
		if err != nil {
			errs = append(errs, &ServiceError{Provider: provider, Service: name, Err: err})
			continue
		}
		if len(periods) == 0 {
			// Never trusted. No anchor at all: an anchor without periods
			// would be trusted at all times.
			continue
		}
		certs, bad := certificates(cur.Identity)
		for _, err := range bad {
			errs = append(errs, &ServiceError{Provider: provider, Service: name, Err: err})
		}
		label := name
		switch {
		case name == "":
			label = provider
		case provider != "":
			label += " (" + provider + ")"
		}
		for i, c := range certs {
			if dup(certs[:i], c) {
				continue
			}
			anchors = append(anchors, pdf.Anchor{
				Cert:    c,
				Source:  pdf.SourceTrustedList,
				Name:    label,
				Country: country,
				Usage:   usage,
				Periods: periods,
			})
		}
	}
	return anchors, errs
}

func dup(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, d := range certs {
		if bytes.Equal(d.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// servicePeriods builds the times a service was trusted for usage from its
// current status and its history: each status holds from its starting
// time until the next one's.
func servicePeriods(usage pdf.Usage, cur *serviceInformation, history []serviceInformation) ([]pdf.Period, error) {
	type instance struct {
		start              time.Time
		trusted, qualified bool
	}
	all := append([]serviceInformation{*cur}, history...)
	instances := make([]instance, 0, len(all))
	for i := range all {
		si := &all[i]
		start, err := parseTime(si.Start)
		if err != nil {
			return nil, err
		}
		typ, status := strings.TrimSpace(si.Type), strings.TrimSpace(si.Status)
		in := instance{start: start}
		if usageOf(typ) == usage && (qualifiedStatuses[status] || nationalStatuses[status]) {
			in.trusted = usage != pdf.UsageSignatures || forSignatures(si)
			in.qualified = in.trusted && typ == typeCAQC && qualifiedStatuses[status]
		}
		instances = append(instances, in)
	}
	sort.SliceStable(instances, func(i, j int) bool { return instances[i].start.Before(instances[j].start) })

	var periods []pdf.Period
	for i, in := range instances {
		var end time.Time
		if i+1 < len(instances) {
			end = instances[i+1].start
			if !end.After(in.start) {
				continue // superseded at once
			}
		}
		if !in.trusted {
			continue
		}
		if n := len(periods); n > 0 && periods[n-1].To.Equal(in.start) && periods[n-1].Qualified == in.qualified {
			periods[n-1].To = end
			continue
		}
		periods = append(periods, pdf.Period{From: in.start, To: end, Qualified: in.qualified})
	}
	return periods, nil
}

// forSignatures reports whether a CA service's certificates may be used
// for signatures: not when its additional information says they are only
// for web sites (a QWAC service).
func forSignatures(si *serviceInformation) bool {
	var purposes, signing bool
	for _, e := range si.Extensions {
		for _, u := range e.Additional {
			switch strings.TrimSpace(u) {
			case forESignatures, forESeals:
				purposes, signing = true, true
			case forWebAuthentication:
				purposes = true
			}
		}
	}
	return !purposes || signing
}
