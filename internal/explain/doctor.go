package explain

import (
	"bytes"
	"html/template"
	"sort"
	"strings"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/netcheck"
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
			Text: p.T("doctor.code."+string(f.Code), "Observed", f.Observed, "Expected", f.Expected), Target: f.Target, Millis: f.Millis}
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

// Finding says a finding in one line: the check, its target, what was seen.
func Finding(p *i18n.Printer, f netcheck.Finding) string {
	s := p.T("doctor.check."+string(f.Check)) + ": " + p.T("doctor.code."+string(f.Code), "Observed", f.Observed, "Expected", f.Expected)
	if f.Target != "" {
		s += " (" + f.Target + ")"
	}
	var keys []string
	for k := range f.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if f.Check == netcheck.CheckEnvironment || f.Check == netcheck.CheckPolicy {
		var kv []string
		for _, k := range keys {
			kv = append(kv, k+"="+f.Details[k])
		}
		if len(kv) > 0 {
			s += " [" + strings.Join(kv, " ") + "]"
		}
	}
	return s
}
