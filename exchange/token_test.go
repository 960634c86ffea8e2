//go:build cgo

package exchange

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pkcs"
)

// The master key on a real SoftHSM2 token: made there sensitive and never
// extractable (pkcs11-tool, not ours, fails to read it), no key file in
// the folder, a parcel sealed and opened through the token, a second
// replica that opens the same token reads it too, and another key is
// refused before anything is wrapped with it.
func TestMasterKeyOnToken(t *testing.T) {
	// One token for the process: SoftHSM sees only the tokens made before
	// its module is loaded.
	tok := testenv.ProcessToken(t)
	keys, err := pkcs.OpenTokenKeys(tok.Module, tok.Label, []byte(tok.PIN))
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	key, err := keys.NewSecretKey("Paraphe exchange master key")
	if err != nil {
		t.Fatal(err)
	}
	o := InitOptions{PKCS11: &PKCS11{Module: tok.Module, Token: tok.Label, KeyID: key.ID}, TokenKey: key}
	f := newFixtureWith(t, o, func(x *Exchange) {
		if err := x.UseToken(key); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(filepath.Join(f.dir, fileMasterKey)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a master key file beside a token's key: %v", err)
	}
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne Martin"}, testPassword)
	client := f.user(t, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul Durand", Manager: pro.Code}, testPassword)
	doc := append([]byte(marker+" "), make([]byte, 200<<10)...)
	rand.Read(doc[len(marker)+1:])
	d, err := f.x.NewDraft(ctx, pro, Sending{Recipient: client.Code, Title: "Rapport", Note: "Le rapport. " + marker})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Add(ctx, "rapport.bin", bytes.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	p, _, err := d.Send(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	f.box.Next(t)
	assertNoPlaintext(t, f)

	// Another replica: the folder and the token, logged in on its own.
	other, err := pkcs.OpenTokenKeys(tok.Module, tok.Label, []byte(tok.PIN))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	again, err := other.SecretKey(key.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !b.NeedsToken() {
		t.Fatal("the exchange does not say its key is on a token")
	}
	if _, err := b.OpenDocument(ctx, client, p.ID, p.Documents[0].ID, "downloaded", "test"); !errors.Is(err, ErrKeysLocked) {
		t.Fatalf("a document opened before the token was handed over: %v", err)
	}
	rec := httptest.NewRecorder()
	b.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("the pages served before the token was handed over: %d", rec.Code)
	}
	if err := b.Serve(ctx, nil); !errors.Is(err, ErrKeysLocked) {
		t.Fatalf("served before the token was handed over: %v", err)
	}
	if err := b.UseToken(again); err != nil {
		t.Fatal(err)
	}
	got, err := b.Parcel(ctx, client, p.ID, "test")
	if err != nil || !strings.Contains(got.Note, marker) {
		t.Fatalf("the note through the second replica: %+v, %v", got, err)
	}
	o2, err := b.OpenDocument(ctx, client, p.ID, p.Documents[0].ID, "downloaded", "test")
	if out := readAll(t, o2, err); !bytes.Equal(out, doc) {
		t.Fatal("the document came out changed")
	}

	// Another key on the same token is not the exchange's.
	wrong, err := keys.NewSecretKey("another key")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.UseToken(wrong); !errors.Is(err, ErrMasterKey) {
		t.Fatalf("another key was taken: %v", err)
	}

	assertNotExtractable(t, tok, key.ID)
}

// assertNotExtractable has pkcs11-tool, which is not ours, fail to read
// the secret key id out of tok and see it sensitive, never extractable.
func assertNotExtractable(t *testing.T, tok *testenv.Token, id string) {
	t.Helper()
	testenv.Require(t, "pkcs11-tool")
	out, err := exec.Command("pkcs11-tool", "--module", tok.Module, "--token-label", tok.Label, "--login", "--pin", tok.PIN,
		"--read-object", "--type", "secrkey", "--id", id).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "CKA_VALUE") {
		t.Fatalf("pkcs11-tool read the master key out: %v\n%s", err, out)
	}
	out, _ = exec.Command("pkcs11-tool", "--module", tok.Module, "--token-label", tok.Label, "--login", "--pin", tok.PIN,
		"--list-objects", "--type", "secrkey", "--id", id).CombinedOutput()
	if !strings.Contains(string(out), "never extractable") || !strings.Contains(string(out), "sensitive") {
		t.Fatalf("pkcs11-tool shows:\n%s", out)
	}
}
