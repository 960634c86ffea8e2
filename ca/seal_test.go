package ca

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/asn1"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	_ "modernc.org/sqlite"
)

func seal() Holder {
	h := holder()
	h.Name, h.Title, h.MemberNumber = "", "", ""
	h.Seal, h.Organization, h.OrganizationID, h.Country, h.Email = true, "ACME S.p.A.", "VATIT-01234567890", "it", "firma@acme.example"
	return h
}

// A seal's certificate names the organisation, its identifier and its
// country (ETSI EN 319 412-3), and no person; its key usages are those of
// signatures, and nothing says it is qualified: this CA is not.
func TestSealCertificate(t *testing.T) {
	a := newCA(t, InitOptions{})
	ref, err := a.Enroll(context.Background(), seal())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := activate(t, a, ref, p256(t))
	if err != nil {
		t.Fatal(err)
	}
	s := cert.Subject
	if s.CommonName != "ACME S.p.A." || !slices.Equal(s.Organization, []string{"ACME S.p.A."}) || !slices.Equal(s.Country, []string{"IT"}) || s.SerialNumber != "" {
		t.Fatalf("subject %v", s)
	}
	var orgID any
	for _, n := range s.Names {
		switch {
		case n.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 97}):
			orgID = n.Value
		case n.Type.Equal(oidTitle), n.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 42}), n.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 4}):
			t.Fatalf("a person's attribute in a seal: %v", n)
		}
	}
	if orgID != "VATIT-01234567890" {
		t.Fatalf("organizationIdentifier %v", orgID)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Fatalf("key usage %v", cert.KeyUsage)
	}
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}) {
			t.Fatal("QCStatements in a certificate of a CA that issues no qualified ones")
		}
	}
	// Renewal keeps it a seal.
	next, err := a.Reenroll(context.Background(), cert, csrFor(t, p256(t)), "")
	if err != nil {
		t.Fatal(err)
	}
	if next.Subject.String() != cert.Subject.String() {
		t.Fatalf("renewed as %v", next.Subject)
	}
	hs, err := a.List(context.Background(), false)
	if err != nil || len(hs) != 1 || !hs[0].Seal || hs[0].OrganizationID != "VATIT-01234567890" || hs[0].Country != "IT" || hs[0].DisplayName() != "ACME S.p.A." {
		t.Fatalf("list: %v %+v", err, hs)
	}
}

func TestSealValidation(t *testing.T) {
	a := newCA(t, InitOptions{})
	tests := []struct {
		name  string
		edit  func(*Holder)
		field string
	}{
		{"a person's name", func(h *Holder) { h.Name = "Mario Rossi" }, "name"},
		{"a title", func(h *Holder) { h.Title = "Amministratore" }, "title"},
		{"a member number", func(h *Holder) { h.MemberNumber = "42" }, "member_number"},
		{"no organization", func(h *Holder) { h.Organization = "" }, "organization"},
		{"no country", func(h *Holder) { h.Country = "" }, "country"},
		{"a country of three letters", func(h *Holder) { h.Country = "ITA" }, "country"},
		{"an identifier without its type", func(h *Holder) { h.OrganizationID = "01234567890" }, "organization_identifier"},
		{"an identifier with spaces", func(h *Holder) { h.OrganizationID = "VATIT-0123 4567" }, "organization_identifier"},
		{"a person with an identifier", func(h *Holder) { *h = holder(); h.OrganizationID = "VATIT-01234567890" }, "organization_identifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := seal()
			tt.edit(&h)
			_, err := a.Enroll(context.Background(), h)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != tt.field {
				t.Fatalf("got %v, want a problem with %s", err, tt.field)
			}
		})
	}
	h := seal()
	h.OrganizationID = ""
	if _, err := a.Enroll(context.Background(), h); err != nil {
		t.Fatalf("a seal without identifier: %v", err)
	}
}

// A database made before seals gets their columns, and its holders stay
// persons.
func TestSealColumnsMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE holders (id INTEGER PRIMARY KEY, name TEXT NOT NULL, title TEXT NOT NULL,
		member_number TEXT NOT NULL, organization TEXT NOT NULL, email TEXT NOT NULL, created INTEGER NOT NULL);
		INSERT INTO holders VALUES (1, 'Luca Bianchi', 'Ingegnere', 'MI-4471', 'Ordine', '', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, err := loadHolder(s, 1)
	if err != nil || h.Seal || h.Name != "Luca Bianchi" {
		t.Fatalf("%v %+v", err, h)
	}
}
