package explain

import (
	"bytes"
	"html/template"
	"strings"
	"time"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/netcheck"
	"github.com/paraphe/paraphe/pkcs"
)

// The HTML report is one self-contained page (no scripts, no external
// resources) that a user can e-mail to the helpdesk.
var reportPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 62rem; color: #1c2430; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
.meta { color: #5a6472; font-size: .9rem; margin-bottom: 1.2rem; }
.verdict { border-radius: .5rem; padding: 1rem 1.2rem; margin-bottom: 1.2rem; font-weight: 600; }
.verdict.works { background: #e6f4ea; border: 1px solid #8cc79b; }
.verdict.works_with_warnings { background: #fff6e0; border: 1px solid #e3bf61; }
.verdict.blocked { background: #fdeaea; border: 1px solid #e08a8a; }
.verdict p { font-weight: 400; margin: .5rem 0 0; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #e2e6ea; vertical-align: top; }
th { background: #f3f5f7; }
.sev { font-weight: 700; white-space: nowrap; }
.ok { color: #1e7b34; } .info { color: #1d6fa5; } .warning { color: #a36b00; } .error { color: #b3261e; }
.target { color: #5a6472; font-family: ui-monospace, monospace; font-size: .85rem; }
.fix { color: #1c2430; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<div class="meta">{{.Generated}}</div>
<div class="verdict {{.Verdict}}">{{.VerdictText}}
{{if .Cause}}<p>{{.CauseText}}</p>{{end}}
{{if .FixText}}<p>{{.FixText}}</p>{{end}}
</div>
<table>
<thead><tr><th></th><th>{{.ColCheck}}</th><th>{{.ColFound}}</th><th>{{.ColFix}}</th><th>ms</th></tr></thead>
<tbody>
{{range .Rows}}<tr>
<td class="sev {{.Severity}}">{{.Mark}}</td>
<td>{{.Check}}</td>
<td>{{.Text}}{{if .Target}}<div class="target">{{.Target}}</div>{{end}}</td>
<td class="fix">{{.Fix}}</td>
<td>{{.Millis}}</td>
</tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

type reportRow struct {
	Severity, Mark, Check, Text, Target, Fix string
	Millis                                   int64
}

// DoctorHTML renders the report as a self-contained page in p's language.
func DoctorHTML(p *i18n.Printer, rep *netcheck.Report, version string) ([]byte, error) {
	data := struct {
		Lang, Title, Generated, Verdict, VerdictText, CauseText, FixText string
		Cause                                                            bool
		ColCheck, ColFound, ColFix                                       string
		Rows                                                             []reportRow
	}{
		Lang: p.Lang, Title: p.T("doctor.html.title"),
		Generated: p.T("doctor.html.generated", "Time", rep.Time.Local().Format(p.T("format.datetime")), "Version", version),
		Verdict:   string(rep.Verdict), VerdictText: p.T("doctor.verdict." + string(rep.Verdict)),
		ColCheck: p.T("doctor.html.check"), ColFound: p.T("doctor.html.found"), ColFix: p.T("doctor.html.fix"),
	}
	if rep.Cause != nil {
		data.Cause = true
		data.CauseText = p.T("doctor.cause", "What", Finding(p, *rep.Cause))
		if rep.Cause.Fix != "" {
			data.FixText = p.T("doctor.fix", "Fix", p.T("doctor.fix."+string(rep.Cause.Fix), "Target", rep.Cause.Target))
		}
	}
	marks := map[netcheck.Severity]string{netcheck.OK: "✓", netcheck.Info: "i", netcheck.Warning: "!", netcheck.Error: "✗"}
	for _, f := range rep.Findings {
		row := reportRow{Severity: string(f.Severity), Mark: marks[f.Severity], Check: p.T("doctor.check." + string(f.Check)),
			Text: findingText(p, f), Target: findingTarget(f), Millis: f.Millis}
		if f.Fix != "" && f.Severity != netcheck.OK {
			row.Fix = p.T("doctor.fix."+string(f.Fix), "Target", f.Target)
		}
		data.Rows = append(data.Rows, row)
	}
	var b bytes.Buffer
	if err := reportPage.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Finding says a finding in one line, in words: the check, what was seen,
// and where when that is a place on the network (a host, an address). The
// report's JSON keeps the raw values (an OCSP status, a cipher suite, a
// key store's name); said here, they are sentences.
func Finding(p *i18n.Printer, f netcheck.Finding) string {
	what := findingText(p, f)
	if t := findingTarget(f); t != "" {
		what = p.T("doctor.at", "What", what, "Where", t)
	}
	return p.T("doctor.line", "Check", p.T("doctor.check."+string(f.Check)), "What", what)
}

// findingTarget is where a finding was observed, when that is a place a
// helpdesk looks for; a key store's name and a certificate's key ID are
// said by the text itself, or mean nothing to a reader.
func findingTarget(f netcheck.Finding) string {
	switch f.Check {
	case netcheck.CheckKeystore:
		if f.Target == pkcs.KeychainName {
			return ""
		}
	case netcheck.CheckCertificate:
		return ""
	}
	return f.Target
}

// findingText says what a finding observed. Where a check's observation
// is a raw value, it is put into words here.
func findingText(p *i18n.Printer, f netcheck.Finding) string {
	code := func(observed, expected string) string {
		return p.T("doctor.code."+string(f.Code), "Observed", observed, "Expected", expected)
	}
	switch {
	case f.Check == netcheck.CheckOCSP && f.Code == netcheck.CodeAnswered:
		// The doctor asks about the issuing CA itself: any well-formed
		// answer shows the responder works; its status says nothing.
		return p.T("doctor.said.ocsp_answered")
	case f.Check == netcheck.CheckTSA && f.Code == netcheck.CodeAnswered:
		if t, err := time.Parse("2006-01-02 15:04:05 UTC", f.Observed); err == nil {
			return p.T("doctor.said.tsa_answered", "Time", t.Local().Format(p.T("format.datetime")))
		}
	case f.Code == netcheck.CodeVerified:
		// "TLS 1.3 TLS_AES_128_GCM_SHA256": the version is what a
		// helpdesk compares; the cipher suite stays in the JSON.
		version, _, _ := strings.Cut(strings.TrimPrefix(f.Observed, "TLS "), " ")
		return p.T("doctor.said.verified", "Version", version)
	case f.Code == netcheck.CodeSkew:
		return code(localTime(p, f.Observed), localTime(p, f.Expected))
	case f.Check == netcheck.CheckCertificate && f.Code != netcheck.CodeNoCert:
		return code(f.Observed, "") + p.T("doctor.said.days_left", "Days", f.Details["days_left"])
	case f.Code == netcheck.CodePolicyValid:
		text := p.T("doctor.said.policy_file", "Path", f.Observed)
		if f.Observed == "" {
			text = p.T("doctor.said.policy_built_in")
		}
		return text + environment(p, f.Details)
	case f.Check == netcheck.CheckPolicy:
		return code(f.Observed, f.Expected) + environment(p, f.Details)
	}
	return code(f.Observed, f.Expected)
}

// localTime writes an RFC 3339 time in the reader's zone and language
// (as it came when it is not one).
func localTime(p *i18n.Printer, s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.Local().Format(p.T("format.datetime_seconds"))
}

// systems are the operating systems' names as their users know them.
var systems = map[string]string{"linux": "Linux", "windows": "Windows", "darwin": "macOS", "freebsd": "FreeBSD"}

// environment says the doctor's look at this computer (its Details): the
// system, the version, how it is installed and with which rights.
func environment(p *i18n.Printer, d map[string]string) string {
	if len(d) == 0 {
		return ""
	}
	system := systems[d["os"]]
	if system == "" {
		system = d["os"]
	}
	rights := ""
	switch d["admin"] {
	case "true":
		rights = p.T("doctor.env.admin")
	case "false":
		rights = p.T("doctor.env.user")
	}
	install := p.T("doctor.env.elsewhere")
	switch d["install"] {
	case "machine":
		install = p.T("doctor.env.machine")
	case "user":
		install = p.T("doctor.env.user_folder")
	}
	return p.T("doctor.env", "System", system, "Arch", d["arch"], "Version", d["version"], "Install", install, "Rights", rights)
}
