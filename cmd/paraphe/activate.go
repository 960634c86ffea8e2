package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/pkcs/remote"
	"github.com/paraphe/paraphe/protocol"
)

func (a *app) activate(args []string) error {
	fs := a.flags("activate")
	ref := fs.String("ref", "", a.p.T("flag.ref"))
	storeName := fs.String("store", "", a.p.T("flag.store"))
	tokenLabel := fs.String("token", "", a.p.T("flag.token"))
	answersFile := fs.String("answers-file", "", a.p.T("flag.answers_file"))
	pinFile := fs.String("pin-file", "", a.p.T("flag.pin_file"))
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return a.usageErr(err)
	}
	if len(pos) > 0 {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.no_args", "Args", strings.Join(pos, " ")), Hint: a.p.T("hint.pin_not_arg")}
	}
	pol, err := a.policy()
	if err != nil {
		return err
	}
	store, pin, err := a.storeForNewKey(pol, config.Store(*storeName), *tokenLabel, *pinFile, false)
	if err != nil {
		return err
	}
	defer func() { clear(pin) }()
	defer store.Close()
	var answers []string
	if *answersFile != "" {
		if answers, err = readLines(*answersFile); err != nil {
			return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.answers_file", "File", *answersFile), Err: err}
		}
	}

	if *ref == "" {
		if *ref, err = a.term.Line(a.p.T("prompt.ref")); err != nil {
			return err
		}
	}
	code, err := protocol.ParseRefCode(*ref)
	if err != nil {
		return err
	}
	client, err := activation.New(pol, netclient.ClientOptions{})
	if err != nil {
		return err
	}
	client.Busy = func(wait time.Duration) {
		fmt.Fprintln(a.stderr, a.p.T("activate.busy", "Seconds", int(math.Ceil(wait.Seconds()))))
	}
	// Each exchange with the CA has its own deadline, started once the
	// holder has typed what it needs: slow typing is not a network failure.
	q, err := withTimeout(func(ctx context.Context) (*protocol.Questions, error) { return client.Questions(ctx, code) })
	if err != nil {
		return err
	}
	if q.State != protocol.StatePending {
		return activation.StateError(q.State)
	}
	if answers == nil {
		fmt.Fprintln(a.stderr, a.p.T("activate.questions", "Count", len(q.Questions), "Left", q.AttemptsLeft))
		for i, text := range q.Questions {
			ans, err := a.term.Secret(fmt.Sprintf("%d. %s ", i+1, text))
			if err != nil {
				return err
			}
			answers = append(answers, string(ans))
		}
	}
	if len(answers) != len(q.Questions) {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.answers_count", "Want", len(q.Questions), "Got", len(answers))}
	}
	auth, err := withTimeout(func(ctx context.Context) (*protocol.Authorization, error) { return client.Answer(ctx, code, answers) })
	if err != nil {
		return err
	}
	if pin == nil {
		if pin, err = a.newPIN(pol.PINPolicyFor(config.StoreKeychain)); err != nil {
			return err
		}
	}
	fmt.Fprintln(a.stderr, a.p.T("activate.generating"))
	key, err := withTimeout(func(ctx context.Context) (*pkcs.Key, error) { return client.Activate(ctx, store, code, auth, pin) })
	if err != nil {
		return err
	}
	if a.settings.DefaultCert == "" {
		a.settings.DefaultCert = key.ID
		if err := config.SaveSettings(a.settings); err != nil {
			fmt.Fprintln(a.stderr, a.p.T("warn.settings", "Err", err.Error()))
		}
	}
	fmt.Fprintln(a.stdout, explain.Activated(a.p, key.Chain[0]))
	fmt.Fprintln(a.stdout, a.p.T("activate.kept."+store.Name(), "ID", key.ID))
	return nil
}

// networkTimeout bounds one exchange with the CA.
const networkTimeout = 2 * time.Minute

func withTimeout[T any](f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(context.Background(), networkTimeout)
	defer cancel()
	return f(ctx)
}

// storeForNewKey opens the store a new key goes to (the policy's first by
// default) and gets its PIN, checking before any attempt is spent at the CA
// that the key can be kept there: the keychain answers, the token is there
// and takes its PIN. For the keychain the PIN is a new one, checked against
// the policy; asked on the terminal now when askNow, else left nil for the
// caller to ask later.
func (a *app) storeForNewKey(pol *config.Policy, name config.Store, token, pinFile string, askNow bool) (pkcs.Store, []byte, error) {
	if name == "" {
		name = pol.KeyStores[0]
	}
	if !pol.Allows(name) {
		return nil, nil, &cli.ExitError{Code: explain.ExitStoreDisabled, Message: a.p.T("err.store_not_allowed", "Store", name), Hint: a.p.T("hint.ask_it")}
	}
	switch name {
	case config.StoreKeychain:
		ks, err := local.Keychain(pol)
		if err != nil {
			return nil, nil, err
		}
		if err := ks.Check(); err != nil {
			return nil, nil, err
		}
		if !askNow && pinFile == "" && os.Getenv("PARAPHE_PIN") == "" {
			return ks, nil, nil
		}
		pin, err := a.newSecret(pinFile, "PARAPHE_PIN", pol.PINPolicyFor(name))
		return ks, pin, err
	case config.StorePKCS11:
		ts, err := local.Token(pol, token)
		if err != nil {
			return nil, nil, err
		}
		pin, err := a.secret(pinFile, "PARAPHE_PIN", a.p.T("prompt.token_pin", "Token", ts.Info.Label))
		if err == nil {
			err = ts.Login(pin)
		}
		if err != nil {
			return nil, nil, err
		}
		return ts, pin, nil
	case config.StoreRemote:
		return nil, nil, remote.ErrUnsupported // the CA makes them: paraphe remote login
	}
	return nil, nil, &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.store_not_allowed", "Store", name)}
}

// newPIN asks for a new PIN twice on the terminal, explaining the policy
// and each broken rule, three tries.
func (a *app) newPIN(rules config.PINPolicy) ([]byte, error) {
	return a.askNew(newSecretPrompts{rules: a.pinRulesText(rules), prompt: "prompt.new_pin", again: "prompt.new_pin_again",
		mismatch: "err.pin_mismatch", check: rules.Check, mismatchErr: explain.ErrPINMismatch})
}

// newSecretPrompts are the words and the rules of a new secret asked twice.
type newSecretPrompts struct {
	rules                   string // said first
	prompt, again, mismatch string // catalogue keys
	check                   func([]byte) error
	mismatchErr             error
}

// askNew asks a new secret twice on the terminal, saying each broken rule
// and a confirmation that differs, three tries.
func (a *app) askNew(w newSecretPrompts) ([]byte, error) {
	fmt.Fprintln(a.stderr, w.rules)
	var last error
	for range 3 {
		secret, err := a.term.Secret(a.p.T(w.prompt))
		if err != nil {
			return nil, err
		}
		if err := w.check(secret); err != nil {
			fmt.Fprintln(a.stderr, explain.Error(a.p, err).Text)
			last = err
			continue
		}
		again, err := a.term.Secret(a.p.T(w.again))
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(secret, again) {
			fmt.Fprintln(a.stderr, a.p.T(w.mismatch))
			last = w.mismatchErr
			continue
		}
		return secret, nil
	}
	return nil, last
}

func (a *app) pinRulesText(r config.PINPolicy) string {
	if r.DigitsOnly && r.MinLength == r.MaxLength {
		return a.p.T("pin.rules.digits_exact", "N", r.MinLength)
	}
	if r.DigitsOnly {
		return a.p.T("pin.rules.digits", "Min", r.MinLength, "Max", r.MaxLength)
	}
	return a.p.T("pin.rules.password", "Min", r.MinLength, "Repeat", r.MaxRepeat)
}

// readPIN takes the PIN from --pin-file or PARAPHE_PIN (never an argument).
func readPIN(file string) ([]byte, error) {
	if file == "" {
		return []byte(os.Getenv("PARAPHE_PIN")), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(data, "\r\n"), nil
}

func readLines(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimRight(sc.Text(), "\r"); line != "" {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}
