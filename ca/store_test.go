package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv/postgres"
	"github.com/paraphe/paraphe/protocol"
)

// Every migration is written for each database, with the same number
// and name.
func TestMigrationsAlike(t *testing.T) {
	lite, err := migrations(sqliteDB)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := migrations(postgresDB)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) < 2 || len(lite) != len(pg) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL ones", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: %d_%s and %d_%s", i, lite[i].Version, lite[i].Name, pg[i].Version, pg[i].Name)
		}
	}
}

func TestRebind(t *testing.T) {
	pg, lite := &store{dialect: postgresDB}, &store{dialect: sqliteDB}
	q := `SELECT a FROM t WHERE b = ? AND c IN (?, ?) FOR UPDATE`
	if got := pg.rebind(q); got != `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) FOR UPDATE` {
		t.Errorf("PostgreSQL: %s", got)
	}
	if got := lite.rebind(q); got != `SELECT a FROM t WHERE b = ? AND c IN (?, ?)` {
		t.Errorf("SQLite: %s", got)
	}
}

// freshDatabase is an empty database of this pass, in dir.
func freshDatabase(t *testing.T) (dir string, c DatabaseConfig) {
	t.Helper()
	return t.TempDir(), testDatabase(t)
}

// Replicas starting together on an empty database migrate it once: each
// migration is applied by one of them, the others find nothing to do.
func TestMigrateConcurrently(t *testing.T) {
	dir, c := freshDatabase(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	applied := map[int]int{}
	for range 4 {
		wg.Go(func() {
			s, err := connect(dir, c)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			ms, err := s.migrate(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, m := range ms {
				applied[m.Version]++
			}
		})
	}
	wg.Wait()
	all, _ := migrations(sqliteDB)
	for _, m := range all {
		if applied[m.Version] != 1 {
			t.Errorf("migration %d applied %d times", m.Version, applied[m.Version])
		}
	}
	s, err := openStore(context.Background(), dir, c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n, last int
	if err := s.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &last); err != nil || n != len(all) || last != len(all) {
		t.Fatalf("%d versions recorded, the last %d: %v", n, last, err)
	}
	if ms, err := s.migrate(context.Background()); err != nil || len(ms) != 0 {
		t.Fatalf("migrating again: %v %v", ms, err)
	}
}

// A database a newer paraphe-ca migrated is not used by an older one.
func TestSchemaNewer(t *testing.T) {
	dir, c := freshDatabase(t)
	s, err := openStore(context.Background(), dir, c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Exec(`INSERT INTO schema_migrations(version, name, applied) VALUES (99, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.migrate(context.Background()); !errors.Is(err, ErrSchemaNewer) {
		t.Fatalf("got %v, want ErrSchemaNewer", err)
	}
}

func TestDatabaseConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		c    DatabaseConfig
		want error
	}{
		{DatabaseConfig{}, nil},
		{DatabaseConfig{URL: "postgres://ca@db.example.org:5432/ca?sslmode=verify-full"}, nil},
		{DatabaseConfig{URL: "postgresql:///ca?host=/run/postgresql"}, nil},
		{DatabaseConfig{URL: "postgres://ca:s3cret@db.example.org/ca"}, ErrDatabasePassword},
		{DatabaseConfig{URL: "postgres://ca:@db.example.org/ca"}, ErrDatabasePassword},
		{DatabaseConfig{URL: "postgres://ca@db.example.org/ca?password=s3cret"}, ErrDatabasePassword},
		{DatabaseConfig{URL: "mysql://ca@db.example.org/ca"}, ErrDatabaseURL},
		{DatabaseConfig{URL: "host=db.example.org user=ca"}, ErrDatabaseURL},
		{DatabaseConfig{PasswordFile: "/etc/paraphe-ca/db-password"}, ErrDatabaseURL},
	} {
		if err := tt.c.Validate(); !errors.Is(err, tt.want) {
			t.Errorf("%+v: got %v, want %v", tt.c, err, tt.want)
		}
		if strings.Contains(tt.c.Redacted(), "s3cret") {
			t.Errorf("%+v redacted shows the password: %s", tt.c, tt.c.Redacted())
		}
	}
}

// The password file is refused when others may read it, missing or
// empty, and the password is in no error.
func TestPasswordFile(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("s3cret-of-the-db\n"), 0o644)
	c := DatabaseConfig{URL: "postgres://ca@127.0.0.1:1/ca", PasswordFile: pw}
	if _, err := connect(dir, c); !errors.Is(err, ErrPasswordFile) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a file others may read: %v", err)
	}
	os.Chmod(pw, 0o600)
	s, err := connect(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Nothing listens on port 1: the error names the server, not the password.
	if err := s.Ping(context.Background()); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("ping: %v", err)
	}
	os.WriteFile(pw, nil, 0o600)
	if _, err := connect(dir, c); !errors.Is(err, ErrPasswordFile) {
		t.Errorf("an empty file: %v", err)
	}
	c.PasswordFile = "missing"
	if _, err := connect(dir, c); !errors.Is(err, ErrPasswordFile) {
		t.Errorf("a missing file: %v", err)
	}
}

// Two CAs never share a database: init stops on one that holds records,
// before it writes anything.
func TestInitRefusesUsedDatabase(t *testing.T) {
	c := testDatabase(t)
	if c.URL == "" {
		t.Skip("PostgreSQL only: an SQLite database is the CA folder's own")
	}
	if err := Init(filepath.Join(t.TempDir(), "ca"), InitOptions{Database: c}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ca")
	root := filepath.Join(t.TempDir(), "root")
	if err := Init(dir, InitOptions{Database: c, RootDir: root}); !errors.Is(err, ErrDatabaseInUse) {
		t.Fatalf("second CA on one database: %v", err)
	}
	for _, f := range []string{filepath.Join(dir, fileConfig), filepath.Join(dir, fileIssuerKey), filepath.Join(root, fileRootKey)} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("the refused init wrote %s", f)
		}
	}
}

// replicas opens the CA of a twice: two servers on one database, each
// with its own connections, as two paraphe-ca serve processes would.
func replicas(t *testing.T, a *Authority) [2]*Authority {
	t.Helper()
	b, err := Open(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return [2]*Authority{a, b}
}

// count runs a query that counts something.
func count(t *testing.T, a *Authority, q string, args ...any) int {
	t.Helper()
	var n int
	if err := a.db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Ten keys enrolled at once for one reference through two replicas, each
// with the right enrolment password: one certificate, the others refused
// as used.
func TestReplicasOneCertificatePerReference(t *testing.T) {
	a := newCA(t, InitOptions{})
	rs := replicas(t, a)
	ctx := context.Background()
	ref, err := a.Enroll(ctx, holder())
	if err != nil {
		t.Fatal(err)
	}
	q, _ := a.Questions(ctx, ref)
	auth, err := a.Answer(ctx, ref, rightAnswers(t, q))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var issued []*x509.Certificate
	codes := map[string]int{}
	for i := range 10 {
		csr := csrFor(t, p256(t))
		wg.Go(func() {
			c, err := rs[i%2].EnrollCSR(ctx, ref, protocol.EnrollPassword(auth.Code, csr.RawSubjectPublicKeyInfo), csr)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				issued = append(issued, c)
			} else {
				codes[apiCode(err)]++
			}
		})
	}
	wg.Wait()
	if len(issued) != 1 || codes[protocol.CodeUsed] != 9 {
		t.Fatalf("%d issued, refusals %v", len(issued), codes)
	}
	if n := count(t, a, `SELECT count(*) FROM certs WHERE ref_code = ?`, ref); n != 1 {
		t.Fatalf("%d certificates recorded for the reference", n)
	}
}

// Ten renewals of one certificate at once, new keys, through two
// replicas: one successor.
func TestReplicasOneSuccessor(t *testing.T) {
	a := newCA(t, InitOptions{})
	rs := replicas(t, a)
	ctx := context.Background()
	ref, _ := a.Enroll(ctx, holder())
	cur, err := activate(t, a, ref, p256(t))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[string]int{}
	for i := range 10 {
		csr := csrFor(t, p256(t))
		wg.Go(func() {
			_, err := rs[i%2].Reenroll(ctx, cur, csr, "")
			mu.Lock()
			defer mu.Unlock()
			results[apiCode(err)]++
		})
	}
	wg.Wait()
	if results[""] != 1 || results[protocol.CodeAlreadyRenewed] != 9 {
		t.Fatalf("results %v: want one success, nine already renewed", results)
	}
	if n := count(t, a, `SELECT count(*) FROM certs WHERE predecessor = ?`, SerialOf(cur)); n != 1 {
		t.Fatalf("%d successors recorded", n)
	}
}

// One coupon, two certificates renewed with it at once on two replicas:
// one renewal.
func TestReplicasOneCouponUse(t *testing.T) {
	a := newCA(t, InitOptions{RenewalCoupon: true})
	rs := replicas(t, a)
	ctx := context.Background()
	var certs []*x509.Certificate
	for range 2 {
		ref, _ := a.Enroll(ctx, holder())
		c, err := activate(t, a, ref, p256(t))
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	coupons, err := a.CreateCoupons(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var results []string
	for i, c := range certs {
		csr := csrFor(t, p256(t))
		wg.Go(func() {
			_, err := rs[i].Reenroll(ctx, c, csr, coupons[0])
			mu.Lock()
			defer mu.Unlock()
			results = append(results, apiCode(err))
		})
	}
	wg.Wait()
	slices.Sort(results)
	if !slices.Equal(results, []string{"", protocol.CodeCouponInvalid}) {
		t.Fatalf("results %q: want one renewal, one coupon refused", results)
	}
	if n := count(t, a, `SELECT count(*) FROM coupons WHERE used_by IS NOT NULL`); n != 1 {
		t.Fatalf("%d coupon uses recorded", n)
	}
}

// Reissues of a holder's codes at once, on two replicas: the holder is
// left with one usable code.
func TestReplicasOneUsableReference(t *testing.T) {
	a := newCA(t, InitOptions{})
	rs := replicas(t, a)
	ctx := context.Background()
	ref, _ := a.Enroll(ctx, holder())
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			if _, err := rs[i%2].Reissue(ctx, ref, true); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := count(t, a, `SELECT count(*) FROM refs WHERE used = FALSE AND superseded = FALSE`)
	if n != 1 {
		t.Fatalf("%d usable reference codes", n)
	}
	if _, err := a.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

// readyz fails once the PostgreSQL server is stopped (a server of the
// test's own), and says so; healthz still answers.
func TestReadyzPostgresStopped(t *testing.T) {
	if testPostgres == nil {
		t.Skip("runs on the PostgreSQL pass")
	}
	srv, err := postgres.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	pw := filepath.Join(t.TempDir(), "db-password")
	os.WriteFile(pw, []byte(srv.Password), 0o600)
	if _, err := srv.Admin().Exec(`CREATE DATABASE ca`); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ca")
	if err := Init(dir, InitOptions{Database: DatabaseConfig{URL: srv.URL("ca"), PasswordFile: pw}}); err != nil {
		t.Fatal(err)
	}
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, _, admin := serveAdmin(t, a)
	status := func(path string) (int, string) {
		resp, err := http.Get(admin + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := status("/readyz"); code != http.StatusOK {
		t.Fatalf("readyz: %d %s", code, body)
	}
	srv.Stop()
	code, body := status("/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"database":"ca: database:`) || strings.Contains(body, srv.Password) {
		t.Fatalf("readyz with the server stopped: %d %s", code, body)
	}
	if code, _ := status("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
}
