package portal

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// These run on both databases (main_test.go). Two Stores on one database
// are two replicas of the portal (on SQLite, two processes' worth of
// connections to one file).

func selfCert(t testing.TB, cn string) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn, SerialNumber: "75-" + serial.String()[:4]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func replica(t testing.TB, d Database) *Store {
	t.Helper()
	st, err := Open(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Replicas starting together on a new database apply each migration
// once; a second opening applies none.
func TestMigrationsOnce(t *testing.T) {
	d := testDatabase(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 6)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), d) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	ms, _ := migrations(stores[0].dialect)
	var n, max int
	if err := stores[0].queryRow(context.Background(), stores[0].db, `SELECT count(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || max != len(ms) {
		t.Fatalf("%d migrations recorded, up to %d; %d exist", n, max, len(ms))
	}
	// A newer portal's schema: this one refuses it rather than guess.
	if _, err := stores[0].exec(context.Background(), stores[0].db, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, 'future', 0)`, len(ms)+1); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), d); !errors.Is(err, ErrSchemaNewer) {
		t.Fatalf("a newer schema: %v", err)
	}
}

// Users of one supplier registering at once on two replicas, each asking
// to be administrator: all registered, one administrator.
func TestReplicasOneAdministrator(t *testing.T) {
	a, d := testStore(t)
	b := replica(t, d)
	ctx := context.Background()
	sp, _, err := a.AddSupplier(ctx, "Bianchi", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	users := make(chan User, 8)
	for i := range 8 {
		wg.Go(func() {
			st := []*Store{a, b}[i%2]
			u, err := st.Register(ctx, sp.ID, Registration{Name: fmt.Sprint("User ", i), NationalID: fmt.Sprint("ID0000", i), Admin: true},
				selfCert(t, fmt.Sprint("User ", i)), time.Now())
			if err != nil {
				t.Error(err)
				return
			}
			users <- u
		})
	}
	wg.Wait()
	close(users)
	admins, n := 0, 0
	for u := range users {
		n++
		if u.Admin {
			admins++
		}
	}
	if n != 8 || admins != 1 {
		t.Fatalf("%d users registered, %d administrators", n, admins)
	}
	if taken, err := b.HasAdmin(ctx, sp.ID); err != nil || !taken {
		t.Fatalf("HasAdmin: %v %v", taken, err)
	}
}

// One national ID number registered at once on two replicas, and one
// certificate added at once to several users: one of each succeeds, the
// others are told why.
func TestReplicasOnceEach(t *testing.T) {
	a, d := testStore(t)
	b := replica(t, d)
	ctx := context.Background()
	sp, _, _ := a.AddSupplier(ctx, "Bianchi", time.Now())
	results := make(chan error, 16)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, err := []*Store{a, b}[i%2].Register(ctx, sp.ID, Registration{Name: "Marie", NationalID: "CA12345678"}, selfCert(t, "Marie"), time.Now())
			results <- err
		})
	}
	wg.Wait()
	if ok, other := tally(results, ErrUserExists); ok != 1 || other != nil {
		t.Fatalf("one national ID: %d registered, %v", ok, other)
	}
	shared := selfCert(t, "Shared")
	var ids []string
	for i := range 8 {
		u, err := a.Register(ctx, sp.ID, Registration{Name: "U", NationalID: fmt.Sprint("AX00", i)}, selfCert(t, "U"), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	for i, id := range ids {
		wg.Go(func() { results <- []*Store{a, b}[i%2].AddCertificate(ctx, id, shared, time.Now()) })
	}
	wg.Wait()
	if ok, other := tally(results, ErrCertRegistered); ok != 1 || other != nil {
		t.Fatalf("one certificate: %d registered, %v", ok, other)
	}
}

// tally drains results: how many succeeded, and the first error that is
// not expected.
func tally(results chan error, expected error) (int, error) {
	ok := 0
	for {
		select {
		case err := <-results:
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, expected):
				return ok, err
			}
		default:
			return ok, nil
		}
	}
}

// A database made by the portal before its migrations were numbered (its
// schema created at each opening) is taken over as it is, its records
// kept.
func TestLegacySQLite(t *testing.T) {
	if testPostgres != nil {
		t.Skip("SQLite only")
	}
	path := filepath.Join(t.TempDir(), "portal.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	schema, _ := migrationFiles.ReadFile("migrations/sqlite/0001_schema.sql")
	if _, err := db.Exec(string(schema)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO suppliers (name, code_hash, created) VALUES ('Old', 'x', 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sps, err := st.Suppliers(context.Background())
	if err != nil || len(sps) != 1 || sps[0].Name != "Old" {
		t.Fatalf("%v %v", sps, err)
	}
}

// The database's configuration refused: a password in the URL, a password
// file others may read, a server that does not answer (said with the
// database's address, never its password).
func TestDatabaseRefused(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, Database{URL: "postgres://paraphe:secret@127.0.0.1:1/portal"}); !errors.Is(err, ErrDatabasePassword) {
		t.Fatalf("a password in the URL: %v", err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("secret\n"), 0o644)
	if _, err := Open(ctx, Database{URL: "postgres://paraphe@127.0.0.1:1/portal", PasswordFile: pw}); !errors.Is(err, ErrPasswordFile) {
		t.Fatalf("a password file others read: %v", err)
	}
	os.Chmod(pw, 0o600)
	_, err := Open(ctx, Database{URL: "postgres://paraphe@127.0.0.1:1/portal?connect_timeout=5", PasswordFile: pw})
	if !errors.Is(err, ErrDatabaseUnreachable) || !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("no server: %v", err)
	}
}
