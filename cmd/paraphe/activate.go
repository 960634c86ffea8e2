package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/protocol"
)

func (a *app) activate(args []string) error {
	fs := a.flags("activate")
	ref := fs.String("ref", "", a.p.T("flag.ref"))
	storeName := fs.String("store", "", a.p.T("flag.store"))
	answersFile := fs.String("answers-file", "", a.p.T("flag.answers_file"))
	pinFile := fs.String("pin-file", "", a.p.T("flag.pin_file"))
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return a.usageErr(err)
	}
	if len(pos) > 0 {
		return &cli.ExitError{Code: exitUsage, Message: a.p.T("err.no_args", "Args", strings.Join(pos, " ")), Hint: a.p.T("hint.pin_not_arg")}
	}
	pol, err := a.policy()
	if err != nil {
		return err
	}
	if *storeName == "" {
		*storeName = pol.KeyStores[0]
	}
	if !pol.Allows(*storeName) {
		return &cli.ExitError{Code: exitStoreDisabled, Message: a.p.T("err.store_not_allowed", "Store", *storeName), Hint: a.p.T("hint.ask_it")}
	}
	if *storeName != config.StoreKeychain {
		return &cli.ExitError{Code: exitStoreDisabled, Message: a.p.T("err.store_unsupported", "Store", *storeName), Hint: a.p.T("hint.use_keychain")}
	}
	store, err := a.keychain(pol)
	if err != nil {
		return err
	}
	// Fail before spending an attempt at the CA when the key cannot be kept.
	if err := store.Check(); err != nil {
		return err
	}
	rules := pol.PINPolicyFor(*storeName)

	// A PIN given by file or environment is checked before anything else.
	var pin []byte
	if *pinFile != "" || os.Getenv("PARAPHE_PIN") != "" {
		if pin, err = readPIN(*pinFile); err != nil {
			return err
		}
		if err := rules.Check(pin); err != nil {
			return err
		}
	}
	defer func() { clear(pin) }()
	var answers []string
	if *answersFile != "" {
		if answers, err = readLines(*answersFile); err != nil {
			return &cli.ExitError{Code: exitUsage, Message: a.p.T("err.answers_file", "File", *answersFile), Err: err}
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
	client, err := activation.New(pol, config.ClientOptions{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	q, err := client.Questions(ctx, code)
	if err != nil {
		return err
	}
	if q.State != protocol.StatePending {
		return &activation.ServerError{Code: stateCode(q.State)}
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
		return &cli.ExitError{Code: exitUsage, Message: a.p.T("err.answers_count", "Want", len(q.Questions), "Got", len(answers))}
	}
	auth, err := client.Answer(ctx, code, answers)
	if err != nil {
		return err
	}
	if pin == nil {
		if pin, err = a.newPIN(rules); err != nil {
			return err
		}
	}
	fmt.Fprintln(a.stderr, a.p.T("activate.generating"))
	key, err := client.Activate(ctx, store, code, auth, pin)
	if err != nil {
		return err
	}
	if a.settings.DefaultCert == "" {
		a.settings.DefaultCert = key.ID
		if err := config.SaveSettings(a.settings); err != nil {
			fmt.Fprintln(a.stderr, a.p.T("warn.settings", "Err", err.Error()))
		}
	}
	h := pkcs.HolderOf(key.Chain[0])
	fmt.Fprintln(a.stdout, a.p.T("activate.done", "Name", h.Name, "Title", h.Title, "Member", h.MemberNumber,
		"Org", h.Organization, "Until", a.p.Date(key.Chain[0].NotAfter.Local()), "ID", key.ID))
	return nil
}

func stateCode(state string) string {
	switch state {
	case protocol.StateExpired:
		return protocol.CodeExpired
	case protocol.StateLocked:
		return protocol.CodeLocked
	case protocol.StateUsed:
		return protocol.CodeUsed
	}
	return protocol.CodeUnknownReference
}

// newPIN asks for a new PIN twice on the terminal, explaining the policy
// and each broken rule, three tries.
func (a *app) newPIN(rules config.PINPolicy) ([]byte, error) {
	fmt.Fprintln(a.stderr, a.pinRulesText(rules))
	var last error
	for range 3 {
		pin, err := a.term.Secret(a.p.T("prompt.new_pin"))
		if err != nil {
			return nil, err
		}
		if err := rules.Check(pin); err != nil {
			fmt.Fprintln(a.stderr, a.explain(err).Error())
			last = err
			continue
		}
		again, err := a.term.Secret(a.p.T("prompt.new_pin_again"))
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(pin, again) {
			fmt.Fprintln(a.stderr, a.p.T("err.pin_mismatch"))
			last = errPINMismatch
			continue
		}
		return pin, nil
	}
	return nil, last
}

var errPINMismatch = errors.New("the two PINs differ")

func (a *app) pinRulesText(r config.PINPolicy) string {
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
