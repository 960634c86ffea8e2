package pkcs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/paraphe/paraphe/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv("PARAPHE_TEST_KEY_DIR") != "" {
		crashHelper() // a helper process: it uses its parent's keychain
	}
	os.Exit(testenv.MainWithSecretService(m))
}

func needKeychain(t *testing.T) *KeychainStore {
	t.Helper()
	testenv.NeedSecretService(t)
	return NewKeychainStore(t.TempDir(), 3)
}

var pin = []byte("Corr3ct-Horse")

// selfSign gives key a certificate so that the chain can be stored.
func selfSign(t *testing.T, key crypto.Signer) []*x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Holder"}, NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return []*x509.Certificate{c}
}

// testSigner is the conformance check every store's keys must pass: the
// signature verifies with the public key, from many goroutines at once.
func testSigner(t *testing.T, s crypto.Signer) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				digest := sha256.Sum256(fmt.Appendf(nil, "message %d %d", g, i))
				sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
				if err != nil {
					errs <- err
					return
				}
				switch pub := s.Public().(type) {
				case *ecdsa.PublicKey:
					if !ecdsa.VerifyASN1(pub, digest[:], sig) {
						errs <- errors.New("ECDSA signature does not verify")
					}
				case *rsa.PublicKey:
					if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
						errs <- err
					}
				default:
					errs <- fmt.Errorf("unexpected public key %T", pub)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestKeychainLifecycle(t *testing.T) {
	for _, kt := range []string{ECDSAP256, RSA3072} {
		t.Run(kt, func(t *testing.T) {
			s := needKeychain(t)
			key, err := s.Generate(kt, pin)
			if err != nil {
				t.Fatal(err)
			}
			testSigner(t, key)
			chain := selfSign(t, key)
			if err := s.SetChain(key.ID, chain); err != nil {
				t.Fatal(err)
			}
			list, err := s.List()
			if err != nil || len(list) != 1 || list[0].ID != key.ID || !list[0].Certificate().Equal(chain[0]) {
				t.Fatalf("List = %v, %v", list, err)
			}
			opened, err := s.Open(key.ID, pin)
			if err != nil {
				t.Fatal(err)
			}
			if !opened.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
				t.Fatal("opened key differs from generated key")
			}
			if len(opened.Chain) != 1 {
				t.Fatal("chain not attached on open")
			}
			testSigner(t, opened)

			// The key file holds no private key in clear.
			raw, _ := os.ReadFile(filepath.Join(s.Dir, key.ID+".key"))
			pkcs8, _ := x509.MarshalPKCS8PrivateKey(key.signer)
			if bytes.Contains(raw, pkcs8[len(pkcs8)-32:]) {
				t.Fatal("key file contains private key bytes")
			}

			if err := s.Delete(key.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Open(key.ID, pin); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Open after Delete: %v", err)
			}
		})
	}
}

func TestKeychainWrongPIN(t *testing.T) {
	s := needKeychain(t) // 3 attempts
	key, err := s.Generate(ECDSAP256, pin)
	if err != nil {
		t.Fatal(err)
	}
	// A right PIN resets the counter.
	if _, err := s.Open(key.ID, []byte("wrong")); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if _, err := s.Open(key.ID, pin); err != nil {
		t.Fatal(err)
	}
	for want := 2; want >= 0; want-- {
		_, err := s.Open(key.ID, []byte("wrong"))
		var wp *WrongPINError
		if !errors.As(err, &wp) || wp.TriesLeft != want {
			t.Fatalf("tries left: got %v, want %d", err, want)
		}
	}
	if _, err := s.Open(key.ID, pin); !errors.Is(err, ErrLocked) {
		t.Fatalf("right PIN on a locked key: %v, want ErrLocked", err)
	}
}

func TestKeychainChangePIN(t *testing.T) {
	s := needKeychain(t)
	key, err := s.Generate(ECDSAP256, pin)
	if err != nil {
		t.Fatal(err)
	}
	var _ PINChanger = s
	keyFile := filepath.Join(s.Dir, key.ID+".key")
	before, _ := os.ReadFile(keyFile)
	if err := s.ChangePIN(key.ID, []byte("wrong"), newPIN); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("ChangePIN with wrong PIN: %v", err)
	}
	if err := s.ChangePIN(key.ID, pin, newPIN); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(key.ID, pin); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("old PIN still opens: %v", err)
	}
	if _, err := s.Open(key.ID, newPIN); err != nil {
		t.Fatal(err)
	}
	// The file as it was before opens with no PIN, and trying costs no try.
	after, _ := os.ReadFile(keyFile)
	os.WriteFile(keyFile, before, 0o600)
	for _, p := range [][]byte{pin, newPIN, []byte("wrong"), []byte("wrong")} {
		if _, err := s.Open(key.ID, p); !errors.Is(err, ErrKeyFileStale) || errors.Is(err, ErrWrongPIN) {
			t.Fatalf("the file from before the change, PIN %q: %v", p, err)
		}
	}
	os.WriteFile(keyFile, after, 0o600)
	if _, err := s.Open(key.ID, []byte("wrong")); !errors.Is(err, ErrWrongPIN) || err.(*WrongPINError).TriesLeft != 2 {
		t.Fatalf("tries left after the stale file: %v", err)
	}
}

func TestKeychainFileWithoutKeychainEntry(t *testing.T) {
	s := needKeychain(t)
	key, err := s.Generate(ECDSAP256, pin)
	if err != nil {
		t.Fatal(err)
	}
	// Copy the sealed file to another store under a new ID's name: without
	// its keychain entry it cannot be opened, whatever the PIN.
	other := NewKeychainStore(t.TempDir(), 3)
	data, _ := os.ReadFile(filepath.Join(s.Dir, key.ID+".key"))
	os.WriteFile(filepath.Join(other.Dir, key.ID+".key"), data, 0o600)
	s.Delete(key.ID)
	if _, err := other.Open(key.ID, pin); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open without keychain entry: %v", err)
	}
}

func TestKeychainCheck(t *testing.T) {
	s := needKeychain(t)
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestKeyIDStable(t *testing.T) {
	k, _ := generateSoftware(ECDSAP256)
	a, _ := KeyID(k.Public())
	b, _ := KeyID(k.Public())
	if a != b || len(a) != 16 {
		t.Fatalf("KeyID %q %q", a, b)
	}
}

// Twenty goroutines trying wrong PINs at once on a key with three tries:
// two are told the tries left, the third locks the key, the others find
// it locked, and the right PIN is refused.
func TestKeychainWrongPINsConcurrent(t *testing.T) {
	s := needKeychain(t) // 3 attempts
	key, err := s.Generate(ECDSAP256, pin)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each its own store value, as separate processes would be.
			_, err := NewKeychainStore(s.Dir, 3).Open(key.ID, []byte("wrong"))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	left := map[int]int{}
	locked := 0
	for err := range errs {
		var wp *WrongPINError
		switch {
		case errors.As(err, &wp):
			left[wp.TriesLeft]++
		case errors.Is(err, ErrLocked):
			locked++
		default:
			t.Fatalf("unexpected: %v", err)
		}
	}
	if left[2] != 1 || left[1] != 1 || left[0] != 1 || locked != 17 {
		t.Fatalf("tries left %v, %d locked", left, locked)
	}
	if _, err := s.Open(key.ID, pin); !errors.Is(err, ErrLocked) {
		t.Fatalf("right PIN after the burst: %v", err)
	}
}

// crashHelper runs in a test process started by crashingRun: it does what
// PARAPHE_TEST_DO says to the key and exits with status 3 at the crash point.
func crashHelper() {
	crash = func(point string) {
		if point == os.Getenv("PARAPHE_TEST_CRASH") {
			os.Exit(3)
		}
	}
	s := NewKeychainStore(os.Getenv("PARAPHE_TEST_KEY_DIR"), 3)
	id := os.Getenv("PARAPHE_TEST_KEY_ID")
	switch os.Getenv("PARAPHE_TEST_DO") {
	case "open":
		s.Open(id, pin)
	case "change":
		s.ChangePIN(id, pin, newPIN)
	}
	os.Exit(0)
}

// crashingRun runs crashHelper in a process of its own, which must die at
// point.
func crashingRun(t *testing.T, s *KeychainStore, id, do, point string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PARAPHE_TEST_KEY_DIR="+s.Dir, "PARAPHE_TEST_KEY_ID="+id,
		"PARAPHE_TEST_DO="+do, "PARAPHE_TEST_CRASH="+point)
	var ee *exec.ExitError
	if err := cmd.Run(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("helper process (%s, crash at %s): %v", do, point, err)
	}
}

var newPIN = []byte("N3w-Secret!")

// A try is counted before it is made: a process that dies while the PIN is
// being checked (here: exits at that point) has spent it, even the right one.
func TestKeychainTryCountedBeforeItIsMade(t *testing.T) {
	s := needKeychain(t)
	key, err := s.Generate(ECDSAP256, pin)
	if err != nil {
		t.Fatal(err)
	}
	crashingRun(t, s, key.ID, "open", "counted")
	_, err = s.Open(key.ID, []byte("wrong"))
	var wp *WrongPINError
	if !errors.As(err, &wp) || wp.TriesLeft != 1 {
		t.Fatalf("after a try cut short: %v, want 1 try left", err)
	}
}

// A PIN change that dies between any two of its steps leaves a key that
// opens with one of the two PINs (the old one until the new file is in
// place, the new one after), and the next unlock finishes or forgets the
// change; once it is finished, the file from before opens no more.
func TestKeychainChangePINSurvivesACrash(t *testing.T) {
	testenv.Slow(t, "a PIN change that dies at each of its steps")
	for _, tc := range []struct {
		point      string
		opens, not []byte
	}{
		{"counted", pin, newPIN},
		{"next-stored", pin, newPIN},
		{"file-written", newPIN, pin},
	} {
		t.Run(tc.point, func(t *testing.T) {
			s := needKeychain(t)
			key, err := s.Generate(ECDSAP256, pin)
			if err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(filepath.Join(s.Dir, key.ID+".key"))
			crashingRun(t, s, key.ID, "change", tc.point)
			if _, err := s.Open(key.ID, tc.not); !errors.Is(err, ErrWrongPIN) {
				t.Fatalf("%s opens after a crash at %s: %v", tc.not, tc.point, err)
			}
			k, err := s.Open(key.ID, tc.opens)
			if err != nil {
				t.Fatalf("%s after a crash at %s: %v", tc.opens, tc.point, err)
			}
			testSigner(t, k)
			sec, _ := s.getSecret(key.ID)
			if sec.Next != nil || sec.Failures != 0 {
				t.Fatalf("the keychain entry after an unlock: next %v, %d failures", sec.Next != nil, sec.Failures)
			}
			// Whichever PIN it has now, it changes again, and the file
			// from before the first change is then stale.
			if err := s.ChangePIN(key.ID, tc.opens, []byte("Th1rd-Secret")); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(s.Dir, key.ID+".key"), before, 0o600)
			if _, err := s.Open(key.ID, pin); !errors.Is(err, ErrKeyFileStale) {
				t.Fatalf("the file from before the change: %v", err)
			}
		})
	}
}
