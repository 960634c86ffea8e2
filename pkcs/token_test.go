//go:build cgo

package pkcs

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/pkcs11"
	"github.com/paraphe/paraphe/internal/testenv"
)

// newTestToken creates a SoftHSM token and makes the module see it: SoftHSM
// reads its token folder only at C_Initialize (hardware modules enumerate
// slots as tokens come and go), so the module is initialised again.
func newTestToken(t testing.TB, label string) *testenv.Token {
	t.Helper()
	tok := testenv.NewToken(t, label)
	modules.Lock()
	defer modules.Unlock()
	if ctx, ok := modules.byPath[tok.Module]; ok {
		ctx.Finalize()
		if err := ctx.Initialize(); err != nil {
			t.Fatal(err)
		}
	}
	return tok
}

func newToken(t *testing.T) (*TokenStore, *testenv.Token) {
	t.Helper()
	tok := newTestToken(t, "paraphe-test")
	s, err := OpenToken(tok.Module, tok.Label)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, tok
}

func TestTokenLifecycle(t *testing.T) {
	for _, kt := range []string{ECDSAP256, RSA3072} {
		t.Run(kt, func(t *testing.T) {
			s, tok := newToken(t)
			key, err := s.Generate(kt, []byte(tok.PIN))
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
				t.Fatalf("List = %+v, %v", list, err)
			}
			s.Close()

			// A fresh store (another process would do the same) opens it.
			s2, err := OpenToken(tok.Module, tok.Label)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			opened, err := s2.Open(key.ID, []byte(tok.PIN))
			if err != nil {
				t.Fatal(err)
			}
			if !opened.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) || len(opened.Chain) != 1 {
				t.Fatal("opened key differs from generated key")
			}
			testSigner(t, opened)

			// pkcs11-tool, which is not ours, sees a sensitive, never-extractable signing key.
			testenv.Require(t, "pkcs11-tool")
			out, err := exec.Command("pkcs11-tool", "--module", tok.Module, "--token-label", tok.Label,
				"--login", "--pin", tok.PIN, "--list-objects", "--type", "privkey").CombinedOutput()
			if err != nil {
				t.Fatalf("pkcs11-tool: %v\n%s", err, out)
			}
			text := string(out)
			for _, want := range []string{"Private Key Object", "sign", "sensitive", "never extractable", "ID:"} {
				if !strings.Contains(text, want) {
					t.Errorf("pkcs11-tool does not show %q:\n%s", want, text)
				}
			}
		})
	}
}

func TestTokenRSAPSS(t *testing.T) {
	s, tok := newToken(t)
	key, err := s.Generate(RSA3072, []byte(tok.PIN))
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("pss"))
	opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	sig, err := key.Sign(rand.Reader, digest[:], opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPSS(key.Public().(*rsa.PublicKey), crypto.SHA256, digest[:], sig, opts); err != nil {
		t.Fatal(err)
	}
}

func TestTokenPINLifecycle(t *testing.T) {
	s, tok := newToken(t)
	// A wrong PIN: the token says whether tries are running low.
	_, err := s.Open("nothing", []byte("00000000"))
	var wp *WrongPINError
	if !errors.As(err, &wp) || !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if info, _ := tokenInfo(s.ctx, s.Info.Slot); info.PINLow && !wp.Low && wp.TriesLeft < 0 {
		t.Fatalf("the token reports a low count but the error does not: %+v", wp)
	}

	var _ PINChanger = s
	var _ PINUnlocker = s
	if err := s.ChangePIN("", []byte("00000000"), []byte("11112222")); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("change with a wrong PIN: %v", err)
	}
	if err := s.ChangePIN("", []byte(tok.PIN), []byte("11112222")); err != nil {
		t.Fatal(err)
	}
	if err := s.UnlockPIN([]byte("00000000"), []byte("33334444")); !errors.Is(err, ErrWrongPUK) {
		t.Fatalf("unlock with a wrong PUK: %v", err)
	}
	if err := s.UnlockPIN([]byte(tok.SOPIN), []byte("33334444")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Generate(ECDSAP256, []byte("33334444")); err != nil {
		t.Fatalf("new PIN after unlock: %v", err)
	}
}

func TestTokenSelection(t *testing.T) {
	first := testenv.NewToken(t, "first")
	second := newTestToken(t, "second")
	tokens, err := ListTokens(first.Module)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) < 2 {
		t.Fatalf("%d tokens listed, want at least 2", len(tokens))
	}
	_, err = OpenToken(first.Module, "")
	var amb *AmbiguousTokenError
	if !errors.As(err, &amb) || len(amb.Tokens) != len(tokens) {
		t.Fatalf("several tokens, none named: %v", err)
	}
	if s, err := OpenToken(first.Module, second.Label); err != nil || s.Info.Label != second.Label {
		t.Fatalf("by label: %v", err)
	}
	if s, err := OpenToken(first.Module, tokens[0].Serial); err != nil || s.Info.Serial != tokens[0].Serial {
		t.Fatalf("by serial: %v", err)
	}
	if _, err := OpenToken(first.Module, "third"); !errors.Is(err, ErrNoToken) {
		t.Fatalf("unknown label: %v", err)
	}
}

func TestTokenModuleErrors(t *testing.T) {
	if _, err := OpenToken("/nonexistent/libpkcs11.so", ""); !errors.Is(err, ErrModule) {
		t.Fatalf("missing module: %v", err)
	}
	notLib := t.TempDir() + "/lib.so"
	os.WriteFile(notLib, []byte("not a library"), 0o644)
	if _, err := OpenToken(notLib, ""); !errors.Is(err, ErrModule) {
		t.Fatalf("not a library: %v", err)
	}
}

func TestTokenConcurrentSigning(t *testing.T) {
	s, tok := newToken(t)
	key, err := s.Generate(ECDSAP256, []byte(tok.PIN))
	if err != nil {
		t.Fatal(err)
	}
	// 10,000 signatures from 8 goroutines on one token key.
	const total, workers = 10000, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	digest := sha256.Sum256([]byte("load"))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range total / workers {
				if _, err := key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					errs <- err
					return
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

// BenchmarkTokenSign compares, on the same SoftHSM token and key, Paraphe's
// signer (module loaded once, pooled sessions, logged in once) with
// pkcs11-tool's own sign loop (one process, one login per signature, which
// is how scripts around pkcs11-tool work).
func BenchmarkTokenSign(b *testing.B) {
	tok := newTestToken(b, "bench")
	s, err := OpenToken(tok.Module, tok.Label)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	key, err := s.Generate(ECDSAP256, []byte(tok.PIN))
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("bench"))
	b.Run("paraphe", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sig/s")
	})
	b.Run("pkcs11-tool", func(b *testing.B) {
		testenv.Require(b, "pkcs11-tool")
		in := filepath.Join(b.TempDir(), "digest")
		os.WriteFile(in, digest[:], 0o600)
		for range b.N {
			cmd := exec.Command("pkcs11-tool", "--module", tok.Module, "--token-label", tok.Label, "--login", "--pin", tok.PIN,
				"--sign", "--mechanism", "ECDSA", "--id", hex.EncodeToString([]byte(key.ID)), "--input-file", in, "--output-file", os.DevNull)
			cmd.Env = append(os.Environ(), tok.Env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sig/s")
	})
}

func TestTokenRemovedMidOperation(t *testing.T) {
	s, tok := newToken(t)
	key, err := s.Generate(ECDSAP256, []byte(tok.PIN))
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Remove(); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("after removal"))
	if _, err := key.Sign(rand.Reader, digest[:], crypto.SHA256); !errors.Is(err, ErrTokenRemoved) {
		t.Fatalf("sign after removal: %v, want ErrTokenRemoved", err)
	}
	if _, err := s.Open(key.ID, []byte(tok.PIN)); !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrTokenRemoved) {
		t.Fatalf("open after removal: %v", err)
	}
}

func TestImportIntoBothStores(t *testing.T) {
	testenv.NeedSecretService(t)
	ts, tok := newToken(t)
	stores := []struct {
		s   Importer
		pin string
	}{{NewKeychainStore(t.TempDir(), 5), "Corr3ct-Horse"}, {ts, tok.PIN}}
	for _, st := range stores {
		for _, kt := range []string{ECDSAP256, RSA3072} {
			soft, _ := generateSoftware(kt)
			chain := selfSign(t, soft)
			key, err := st.s.Import(soft, chain, []byte(st.pin))
			if err != nil {
				t.Fatalf("%T %s: %v", st.s, kt, err)
			}
			testSigner(t, key)
			reopened, err := st.s.(Store).Open(key.ID, []byte(st.pin))
			if err != nil || !reopened.Chain[0].Equal(chain[0]) {
				t.Fatalf("%T %s reopen: %v", st.s, kt, err)
			}
		}
	}
}

// A token stays logged in for the whole process: once the right PIN has
// been typed, a wrong one must still be refused, by the same store and by
// another store on the same token.
func TestTokenEveryOpenChecksThePIN(t *testing.T) {
	s, tok := newToken(t)
	key, err := s.Generate(ECDSAP256, []byte(tok.PIN))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetChain(key.ID, selfSign(t, key)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(key.ID, []byte(tok.PIN)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(key.ID, []byte("99999999")); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("same store, wrong PIN after the right one: %v", err)
	}
	if _, err := s.Open(key.ID, []byte(tok.PIN)); err != nil {
		t.Fatalf("the right PIN again: %v", err)
	}
	other, err := OpenToken(tok.Module, tok.Label)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Open(key.ID, []byte("99999999")); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("another store, wrong PIN while the token is logged in: %v", err)
	}
}

// TokenKeys log in once: keys made or opened after the first still sign
// with it.
func TestTokenKeys(t *testing.T) {
	tok := newTestToken(t, "server")
	if _, err := OpenTokenKeys(tok.Module, tok.Label, []byte("00000000")); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("a wrong PIN: %v", err)
	}
	k, err := OpenTokenKeys(tok.Module, tok.Label, []byte(tok.PIN))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	first, err := k.NewKey(ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	second, err := k.NewKey(RSA3072)
	if err != nil {
		t.Fatal(err)
	}
	chain := selfSign(t, first)
	if err := k.Keep(chain[0]); err != nil {
		t.Fatal(err)
	}
	again, err := k.Key(chain[0].PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []crypto.Signer{first, second, again} {
		testSigner(t, s)
	}
	if err := k.Delete(second.Public()); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Key(second.Public()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a deleted key: %v", err)
	}
	var s TokenStore
	if _, err := s.NewKey(ECDSAP256); !errors.Is(err, ErrNotLoggedIn) {
		t.Fatalf("NewKey before logging in: %v", err)
	}
}

// A token is logged in once for the process, whatever the stores and
// Opens on it: a key opened before still signs after the same key (a
// batch) or another is opened again with the PIN, by the same store or by
// another one on the token (the bridge while the app signs), in parallel,
// and after that other store closes. A wrong PIN still goes to the token,
// which counts it (SoftHSM raises CKF_USER_PIN_COUNT_LOW), and is refused;
// the last store to close logs the token out.
func TestTokenOpenKeepsKeysOpenedBefore(t *testing.T) {
	s, tok := newToken(t)
	pin := []byte(tok.PIN)
	gen, err := s.Generate(ECDSAP256, pin)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetChain(gen.ID, selfSign(t, gen)); err != nil {
		t.Fatal(err)
	}
	held, err := s.Open(gen.ID, pin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(gen.ID, pin); err != nil {
		t.Fatal(err)
	}
	signs(t, "after the same store opened it again", held, gen)

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			other, err := OpenToken(tok.Module, tok.Label)
			if err == nil {
				var k *Key
				if k, err = other.Open(gen.ID, pin); err == nil {
					d := sha256.Sum256([]byte("bridge"))
					_, err = k.Sign(rand.Reader, d[:], crypto.SHA256)
				}
				other.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("another store: %v", err)
		}
	}
	signs(t, "after other stores opened it and closed", held, gen)

	// Counted by the token: the right PIN cleared its low-count flag.
	if info, _ := tokenInfo(s.ctx, s.Info.Slot); info.PINLow {
		t.Fatal("the token's PIN count is low after right PINs")
	}
	if _, err := s.Open(gen.ID, []byte("99999999")); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("a wrong PIN after the right one: %v", err)
	}
	if info, _ := tokenInfo(s.ctx, s.Info.Slot); !info.PINLow {
		t.Fatal("the wrong PIN did not reach the token")
	}
	again, err := s.Open(gen.ID, pin)
	if err != nil {
		t.Fatalf("the right PIN after a wrong one: %v", err)
	}
	signs(t, "opened after a wrong PIN", again)

	s.Close()
	fresh, err := OpenToken(tok.Module, tok.Label)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	sh, err := fresh.ctx.OpenSession(fresh.Info.Slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.ctx.CloseSession(sh)
	if si, err := fresh.ctx.GetSessionInfo(sh); err != nil || si.State != pkcs11.CKS_RO_PUBLIC_SESSION {
		t.Fatalf("after the last store closed, the token is in state %d (%v), not logged out", si.State, err)
	}
}

func signs(t *testing.T, when string, keys ...*Key) {
	t.Helper()
	d := sha256.Sum256([]byte(when))
	for _, k := range keys {
		if _, err := k.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
			t.Fatalf("a key opened before, %s: %v", when, err)
		}
	}
}

// Logged in with a PIN that is then changed, the old PIN no longer opens
// a key and the new one does; after an unlock with the PUK, only the PIN
// it set does.
func TestTokenOpenAfterPINChange(t *testing.T) {
	s, tok := newToken(t)
	key, err := s.Generate(ECDSAP256, []byte(tok.PIN))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePIN("", []byte(tok.PIN), []byte("11112222")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(key.ID, []byte(tok.PIN)); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("the PIN changed away from: %v", err)
	}
	if _, err := s.Open(key.ID, []byte("11112222")); err != nil {
		t.Fatalf("the new PIN: %v", err)
	}
	s.Close()
	if err := s.UnlockPIN([]byte(tok.SOPIN), []byte("33334444")); err != nil {
		t.Fatal(err)
	}
	for pin, ok := range map[string]bool{"11112222": false, "33334444": true} {
		_, err := s.Open(key.ID, []byte(pin))
		if ok != (err == nil) || !ok && !errors.Is(err, ErrWrongPIN) {
			t.Errorf("after the unlock, PIN %s: %v", pin, err)
		}
	}
}
