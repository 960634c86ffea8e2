package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/pkcs"
)

// fieldJSON is one field in "paraphe fields list --json".
type fieldJSON struct {
	pdf.Field
	// Signer is who the signature names (not verified: paraphe verify
	// says whether it holds), in parts and in words.
	Signer     *pkcs.Holder `json:"signer,omitempty"`
	SignerName string       `json:"signer_name,omitempty"`
}

// fields lists a document's signature fields and prepares empty ones for
// signers to come: paraphe fields list, add.
func (a *app) fields(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return a.fieldsList(args[1:])
		case "add":
			return a.fieldsAdd(args[1:])
		}
	}
	return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.fields")}
}

func (a *app) fieldsList(args []string) error {
	fs := a.flags("fields")
	asJSON := fs.Bool("json", false, a.p.T("flag.json"))
	files, err := cli.Parse(fs, args)
	if err != nil {
		return a.usageErr(err)
	}
	if len(files) != 1 {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.fields")}
	}
	file := files[0]
	list, err := pdf.Fields(file)
	if err != nil {
		return exitOf(explain.Sign(a.p, err, file))
	}
	if *asJSON {
		out := make([]fieldJSON, 0, len(list))
		for _, f := range list {
			fj := fieldJSON{Field: f}
			if f.Signer != nil {
				h := pkcs.HolderOf(f.Signer)
				fj.Signer, fj.SignerName = &h, explain.Who(a.p, f.Signer)
			}
			out = append(out, fj)
		}
		return cli.WriteJSON(a.stdout, out)
	}
	if len(list) == 0 {
		fmt.Fprintln(a.stdout, a.p.T("fields.none", "File", file))
		return nil
	}
	signed := false
	for _, f := range list {
		fmt.Fprintln(a.stdout, a.fieldLine(f))
		for _, w := range f.Widgets {
			fmt.Fprintln(a.stdout, "  "+a.widgetLine(w))
		}
		if f.Certification != 0 {
			fmt.Fprintln(a.stdout, "  "+a.p.T(fmt.Sprintf("fields.certifies.%d", f.Certification)))
		}
		if f.LockedBy != "" {
			fmt.Fprintln(a.stdout, "  "+a.p.T("fields.locked_by", "Field", f.LockedBy))
		}
		if l := f.Locks; l != nil {
			key := "fields.will_lock."
			if f.Signed {
				key = "fields.locks."
			}
			fmt.Fprintln(a.stdout, "  "+a.p.T(key+strings.ToLower(string(l.Action)), "Fields", strings.Join(l.Fields, ", ")))
		}
		signed = signed || f.Signed
	}
	if signed {
		fmt.Fprintln(a.stdout, a.p.T("fields.verify_hint", "File", file))
	}
	return nil
}

// fieldLine is a field's first line: its name, and what it holds.
func (a *app) fieldLine(f pdf.Field) string {
	switch {
	case !f.Signed:
		return a.p.T("fields.empty", "Name", f.Name)
	case f.Signer == nil:
		return a.p.T("fields.signed_unreadable", "Name", f.Name)
	case f.Kind == pdf.KindDocumentTimestamp:
		return a.p.T("fields.timestamp", "Name", f.Name, "Who", explain.Who(a.p, f.Signer))
	case f.SigningTime != nil:
		return a.p.T("fields.signed_at", "Name", f.Name, "Who", explain.Who(a.p, f.Signer),
			"Time", f.SigningTime.Local().Format(a.p.T("format.datetime")))
	}
	return a.p.T("fields.signed", "Name", f.Name, "Who", explain.Who(a.p, f.Signer))
}

// widgetLine says where a field shows, its place as --rect takes it.
func (a *app) widgetLine(w pdf.Widget) string {
	switch {
	case w.Page == 0:
		return a.p.T("fields.no_page")
	case w.Rect[2] == 0 || w.Rect[3] == 0:
		return a.p.T("fields.invisible", "Page", w.Page)
	}
	return a.p.T("fields.place", "Page", w.Page, "Rect", formatRect(w.Rect))
}

func formatRect(r [4]float64) string {
	parts := make([]string, 4)
	for i, v := range r {
		parts[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strings.Join(parts, ",")
}

// fieldsAdd prepares empty signature fields. Each --name starts a field;
// --page, --rect and --lock that follow it are its own (before any --name,
// the first field's).
func (a *app) fieldsAdd(args []string) error {
	fs := a.flags("fields")
	var specs []pdf.NewField
	current := func() *pdf.NewField {
		if len(specs) == 0 {
			specs = append(specs, pdf.NewField{Page: 1})
		}
		return &specs[len(specs)-1]
	}
	named := 0
	badRect := false
	fs.Func("name", a.p.T("flag.field_name"), func(s string) error {
		if named > 0 || len(specs) == 0 {
			specs = append(specs, pdf.NewField{Page: 1})
		}
		named++
		current().Name = s
		return nil
	})
	fs.Func("page", a.p.T("flag.field_page"), func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return errors.New(a.p.T("err.fields_page"))
		}
		current().Page = n
		return nil
	})
	fs.Func("rect", a.p.T("flag.field_rect"), func(s string) error {
		r, err := parseRect(s)
		if err != nil {
			badRect = true
			return errors.New(a.p.T("err.sign_rect"))
		}
		current().Rect = r
		return nil
	})
	fs.Func("lock", a.p.T("flag.lock"), func(s string) error {
		f := current()
		f.Lock = addLock(f.Lock, s)
		return nil
	})
	out := fs.String("o", "", a.p.T("flag.fields_out"))
	files, err := cli.Parse(fs, args)
	if err != nil {
		if badRect {
			return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.sign_rect"), Hint: a.p.T("usage.fields")}
		}
		return a.usageErr(err)
	}
	if len(files) != 1 || len(specs) == 0 {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.fields")}
	}
	for _, f := range specs {
		if f.Name == "" || f.Rect == [4]float64{} {
			return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.fields_incomplete"), Hint: a.p.T("usage.fields")}
		}
	}
	in := files[0]
	dst := *out
	if dst == "" {
		dst = fieldsOutputName(in)
	}
	if err := pdf.AddFields(in, dst, specs...); err != nil {
		return a.fieldsError(err, in, dst)
	}
	names := make([]string, len(specs))
	for i, f := range specs {
		names[i] = f.Name
	}
	fmt.Fprintln(a.stdout, a.p.T("fields.added", "Input", in, "Output", dst, "Names", strings.Join(names, ", ")))
	return nil
}

// fieldsOutputName is where fields add writes by default: NAME-fields.pdf
// beside the input.
func fieldsOutputName(in string) string {
	ext := filepath.Ext(in)
	return strings.TrimSuffix(in, ext) + "-fields" + ext
}

func (a *app) fieldsError(err error, in, out string) error {
	switch {
	case errors.Is(err, pdf.ErrOutputExists):
		return &cli.ExitError{Code: explain.ExitOutput, Message: a.p.T("err.fields_output_exists", "File", out), Hint: a.p.T("hint.fields_output"), Err: err}
	case errors.Is(err, pdf.ErrSameFile):
		return &cli.ExitError{Code: explain.ExitOutput, Message: a.p.T("err.fields_same_file", "File", in), Hint: a.p.T("hint.fields_output"), Err: err}
	case errors.Is(err, pdf.ErrCertified):
		return &cli.ExitError{Code: explain.ExitPDFCertified, Message: a.p.T("err.fields_certified", "File", in), Hint: a.p.T("hint.pdf_certified"), Err: err}
	}
	return exitOf(explain.Sign(a.p, err, in))
}

// addLock adds one --lock value to a lock: "all", or a field's name.
func addLock(l *pdf.FieldLock, value string) *pdf.FieldLock {
	switch {
	case value == "all":
		return &pdf.FieldLock{Action: pdf.LockAll}
	case l == nil:
		return &pdf.FieldLock{Action: pdf.LockInclude, Fields: []string{value}}
	case l.Action == pdf.LockAll:
		return l
	}
	l.Fields = append(l.Fields, value)
	return l
}
