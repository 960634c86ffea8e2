package exchange

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const testPassword = "correct horse battery staple"

// marker is a string the documents carry, searched for in every stored
// file: the documents folder and the database must never hold it.
const marker = "PARAPHE-PLAINTEXT-MARKER-7f3a"

func readAll(t *testing.T, o *OpenedDocument, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A parcel goes from a professional to a client and back: the documents
// come out byte for byte, nothing of them (nor of the note) is stored in
// clear, and at expiry the keys and files go while the slip stays.
func TestParcelLifecycle(t *testing.T) {
	f := newFixture(t, InitOptions{Name: "Étude Martin"})
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Maître Anne Martin", Lang: "fr"}, testPassword)
	client := f.user(t, NewUser{Kind: Client, Email: "Paul@Client.example", Name: "Paul Durand", Manager: pro.Code}, testPassword)
	if client.Email != "paul@client.example" || client.ManagerID != pro.ID {
		t.Fatalf("client %+v", client)
	}
	doc := append([]byte(strings.Repeat(marker+" ", 20000)), make([]byte, 100000)...)
	rand.Read(doc[len(doc)-100000:])
	d, err := f.x.NewDraft(ctx, pro, Sending{Recipient: client.Code, Title: "Acte de vente", Note: "Voici l'acte. " + marker, Days: 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Add(ctx, "../acte.bin", bytes.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	p, mailed, err := d.Send(ctx, "test")
	if err != nil || !mailed {
		t.Fatalf("send: mailed %v, %v", mailed, err)
	}
	m := f.box.Next(t)
	if m.To != client.Email || !strings.Contains(m.Subject, "Maître Anne Martin") || !strings.Contains(m.Body, "/parcels/"+p.ID) || strings.Contains(m.Body, marker) {
		t.Fatalf("notification: %+v", m)
	}
	assertNoPlaintext(t, f)

	// Another user sees nothing of it.
	other := f.user(t, NewUser{Kind: Client, Email: "eve@else.example", Name: "Eve"}, testPassword)
	if _, err := f.x.Parcel(ctx, other, p.ID, "test"); !errors.Is(err, ErrNoParcel) {
		t.Fatalf("another user opened it: %v", err)
	}
	if _, err := f.x.OpenDocument(ctx, other, p.ID, p.Documents[0].ID, "downloaded", "test"); !errors.Is(err, ErrNoParcel) {
		t.Fatalf("another user downloaded it: %v", err)
	}

	got, err := f.x.Parcel(ctx, client, p.ID, "test")
	if err != nil || got.Status != StatusOpened || got.Note != "Voici l'acte. "+marker || got.Documents[0].Name != "acte.bin" {
		t.Fatalf("opened: %+v, %v", got, err)
	}
	o, err := f.x.OpenDocument(ctx, client, p.ID, p.Documents[0].ID, "downloaded", "test")
	if b := readAll(t, o, err); !bytes.Equal(b, doc) {
		t.Fatal("the document came out changed")
	}

	// Expiry: a day past it, before any sweep, nothing can be read.
	f.clock.Add(8 * 24 * time.Hour)
	if _, err := f.x.OpenDocument(ctx, client, p.ID, p.Documents[0].ID, "downloaded", "test"); !errors.Is(err, ErrGone) {
		t.Fatalf("read after expiry: %v", err)
	}
	n, err := f.x.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if files, _ := filepath.Glob(filepath.Join(f.dir, "documents", "*")); len(files) != 0 {
		t.Fatalf("files left after expiry: %v", files)
	}
	slip, events, err := f.x.Slip(ctx, pro, p.ID)
	if err != nil || slip.Status != StatusExpired || slip.Destroyed == nil || slip.Opened == nil || len(slip.Documents) != 1 || slip.Documents[0].SHA256 == "" {
		t.Fatalf("slip: %+v, %v", slip, err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "sent,opened,downloaded,expired" {
		t.Fatalf("audit: %v", actions)
	}
	if n, _ := f.x.Sweep(ctx); n != 0 {
		t.Fatalf("swept twice: %d", n)
	}
}

// assertNoPlaintext searches every file of the exchange's folder for the
// marker the documents and notes carry.
func assertNoPlaintext(t *testing.T, f *fixture) {
	t.Helper()
	n := 0
	filepath.Walk(f.dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if bytes.Contains(data, []byte(marker)) {
			t.Errorf("%s holds the plaintext", path)
		}
		return nil
	})
	if f.x.db.dialect == postgresDB {
		n += assertNoPlaintextInDB(t, f)
	}
	if n < 4 {
		t.Fatalf("only %d files (and tables) searched", n)
	}
}

// assertNoPlaintextInDB searches every value of every table of a
// PostgreSQL database for the marker; it returns how many tables it read.
func assertNoPlaintextInDB(t *testing.T, f *fixture) int {
	t.Helper()
	tables := []string{"users", "invitations", "sessions", "parcels", "documents", "events", "addresses"}
	for _, table := range tables {
		rows, err := f.x.db.db.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if bytes.Contains(v, []byte(marker)) {
					t.Errorf("%s.%s holds the plaintext", table, cols[i])
				}
			}
		}
		rows.Close()
	}
	return len(tables)
}

// A client sends without naming anyone: the parcel goes to their account
// manager, whatever the form says.
func TestClientSendsToManager(t *testing.T) {
	f := newFixture(t, InitOptions{})
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne"}, testPassword)
	colleague := f.user(t, NewUser{Kind: Firm, Email: "bob@firm.example", Name: "Bob"}, testPassword)
	client := f.user(t, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul", Manager: pro.Email}, testPassword)
	d, err := f.x.NewDraft(ctx, client, Sending{Recipient: colleague.Code, Title: "Pièces"})
	if err != nil {
		t.Fatal(err)
	}
	d.Add(ctx, "id.pdf", strings.NewReader("not really a PDF"))
	p, _, err := d.Send(ctx, "test")
	if err != nil || p.Recipient.ID != pro.ID {
		t.Fatalf("sent to %+v, %v", p.Recipient, err)
	}
	if m := f.box.Next(t); m.To != pro.Email {
		t.Fatalf("mail to %s", m.To)
	}
	orphan := f.user(t, NewUser{Kind: Client, Email: "zoe@client.example", Name: "Zoé"}, testPassword)
	if _, err := f.x.NewDraft(ctx, orphan, Sending{Title: "x"}); !errors.Is(err, ErrNoManager) {
		t.Fatalf("a client without manager: %v", err)
	}
}

// A professional sending to an address no account has creates the client
// (managed by the sender), whose one e-mail carries the invitation.
func TestSendToNewClient(t *testing.T) {
	f := newFixture(t, InitOptions{})
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne"}, testPassword)
	d, err := f.x.NewDraft(ctx, pro, Sending{Recipient: "new@client.example", RecipientName: "Nouveau Client", Title: "Bienvenue"})
	if err != nil {
		t.Fatal(err)
	}
	d.Add(ctx, "a.txt", strings.NewReader("hello"))
	if _, _, err := d.Send(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	m := f.box.Next(t)
	tok := link(t, m.Body, "/invitation/")
	if m.To != "new@client.example" || !strings.Contains(m.Body, "/parcels/") {
		t.Fatalf("mail: %+v", m)
	}
	u, err := f.x.Invitation(ctx, tok[strings.LastIndex(tok, "/")+1:])
	if err != nil || u.Kind != Client || u.ManagerID != pro.ID || u.Name != "Nouveau Client" {
		t.Fatalf("new client %+v, %v", u, err)
	}
}

// Twenty wrong passwords at once, through two openings of the folder (two
// connection pools, as two replicas): no more than the limit are checked,
// and then even the right password is refused until the lock ends.
func TestLockoutUnderParallelAttempts(t *testing.T) {
	f := newFixture(t, InitOptions{})
	ctx := context.Background()
	u := f.user(t, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul"}, testPassword)
	xs := []*Exchange{f.x, f.open(t)}
	before := xs[0].passwordChecks.Load() + xs[1].passwordChecks.Load()
	var wg sync.WaitGroup
	var mu sync.Mutex
	refusals := map[string]int{}
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := xs[i%2].SignIn(ctx, u.Email, "wrong password "+string(rune('a'+i)), "test")
			var locked *LockedError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.As(err, &locked):
				refusals["locked"]++
			case errors.Is(err, ErrBadLogin):
				refusals["wrong"]++
			default:
				t.Errorf("attempt %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	checked := xs[0].passwordChecks.Load() + xs[1].passwordChecks.Load() - before
	if checked > int64(f.x.Config.LockoutAttempts) || refusals["wrong"] > f.x.Config.LockoutAttempts-1 {
		t.Fatalf("%d passwords checked, refusals %v: the limit is %d", checked, refusals, f.x.Config.LockoutAttempts)
	}
	var locked *LockedError
	if _, err := f.x.SignIn(ctx, u.Code, testPassword, "test"); !errors.As(err, &locked) {
		t.Fatalf("the right password during the lock: %v", err)
	}
	f.clock.Add(time.Duration(f.x.Config.LockoutMinutes)*time.Minute + time.Second)
	if _, err := f.x.SignIn(ctx, u.Code, testPassword, "test"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// An unknown account costs the same work and says the same.
	if _, err := f.x.SignIn(ctx, "nobody@else.example", testPassword, "test"); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("unknown account: %v", err)
	}
}

// One invitation link, used ten times at once: one sets the password.
func TestInvitationUsedOnce(t *testing.T) {
	f := newFixture(t, InitOptions{})
	ctx := context.Background()
	_, link, _, err := f.x.AddUser(ctx, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul"})
	if err != nil {
		t.Fatal(err)
	}
	f.box.Next(t)
	tok := link[strings.LastIndex(link, "/")+1:]
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := testPassword + string(rune('a'+i))
			if _, err := f.x.AcceptInvitation(ctx, tok, pw, pw, "test"); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, ErrInvitation) {
				t.Errorf("use %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d uses of one link worked", ok)
	}
	// An expired one is refused too.
	_, link, _, _ = f.x.Invite(ctx, "paul@client.example")
	f.box.Next(t)
	f.clock.Add(73 * time.Hour)
	tok = link[strings.LastIndex(link, "/")+1:]
	if _, err := f.x.AcceptInvitation(ctx, tok, testPassword, testPassword, "test"); !errors.Is(err, ErrInvitation) {
		t.Fatalf("an expired link: %v", err)
	}
}

func TestPasswordRules(t *testing.T) {
	u := &User{Email: "paul.durand@client.example", Code: "K7QM-4XZA"}
	for pw, want := range map[string]Rule{
		"short":                     RuleShort,
		strings.Repeat("a", 129):    RuleLong,
		strings.Repeat("é", 12):     RuleRepeated,
		"my paul.durand pass":       RulePersonal,
		"key k7qm4xza is mine":      RulePersonal,
		"twelve chars and more":     RuleMismatch, // given twice differently below
		"ordinary but long enough!": "",
	} {
		again := pw
		if want == RuleMismatch {
			again += "x"
		}
		err := CheckPassword(u, pw, again)
		var pe *PasswordError
		if want == "" && err != nil || want != "" && (!errors.As(err, &pe) || pe.Rule != want) {
			t.Errorf("%q: %v, want %s", pw, err, want)
		}
	}
}

func TestMasterKeyNeeded(t *testing.T) {
	f := newFixture(t, InitOptions{})
	os.Remove(filepath.Join(f.dir, fileMasterKey))
	if _, err := Open(f.dir); !errors.Is(err, ErrMasterKey) {
		t.Fatalf("open without the master key: %v", err)
	}
	if err := Init(f.dir, InitOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("init twice: %v", err)
	}
}
