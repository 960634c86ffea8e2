package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/protocol"
)

// activateWizard takes the holder from the reference code to a certificate:
// code → questions → where to keep the key → PIN → progress → done. The
// answers are sent only at the end, once the key's store is known to work,
// so that no attempt is spent on a computer that cannot keep the key.
type activateWizard struct {
	u       *UI
	pol     *config.Policy
	content *fyne.Container // the whole window while the wizard runs
	body    *fyne.Container // the current step
	title   *widget.Label
	stop    *button        // leaves the wizard
	escape  *button        // what Escape presses in this step
	focus   fyne.Focusable // where typing goes in this step
	keys    *keyLayer      // Enter and Escape while the wizard is open

	// Step 1
	code     *field
	codeInfo *widget.Label
	codeNext *button
	// Step 2
	ref       string
	questions *protocol.Questions
	answers   []*field
	// Step 3
	storeChoice *widget.RadioGroup
	tokenSelect *widget.Select
	tokenPIN    *field
	tokens      []pkcs.TokenInfo
	store       pkcs.Store
	// Step 4
	pin, pin2 *field
	pinInfo   *widget.Label
	pinNext   *button
	// Progress, result
	status *widget.Label
	// primary is the current step's main button (tests press it).
	primary *button
	cancel  func()
	key     *pkcs.Key
	failed  *explainedError
}

type explainedError struct{ msg, hint string }

func newActivateWizard(u *UI, code string) *activateWizard {
	w := &activateWizard{u: u, title: heading(""), body: container.NewVBox()}
	w.stop = u.newButton(u.T("app.cancel"), theme.CancelIcon(), w.close)
	w.keys = &keyLayer{ok: func() *button { return w.primary }, cancel: func() *button { return w.escape }}
	w.content = container.NewBorder(container.NewVBox(container.NewBorder(nil, nil, w.title, w.stop), widget.NewSeparator()),
		nil, nil, nil, container.NewPadded(container.NewVScroll(w.body)))
	w.stepCode(code)
	return w
}

func (w *activateWizard) show() {
	w.u.keys.push(w.keys)
	w.u.win.SetContent(w.content)
	w.setFocus(w.focus)
}

// setFocus sends typing to f once the wizard is on the window.
func (w *activateWizard) setFocus(f fyne.Focusable) {
	w.focus = f
	if f != nil && w.u.win.Content() == w.content {
		w.u.win.Canvas().Focus(f)
	}
}

// close leaves the wizard for the home screen, forgetting what was typed.
func (w *activateWizard) close() {
	if w.cancel != nil {
		w.cancel()
	}
	w.forget()
	closeStore(w.store)
	w.u.keys.pop(w.keys)
	w.u.win.SetContent(w.u.tabs)
	w.u.certsChanged()
	w.u.activation = nil
}

// forget empties the fields that hold secrets: answers and PINs.
func (w *activateWizard) forget() {
	for _, e := range append(append([]*field(nil), w.answers...), w.tokenPIN, w.pin, w.pin2) {
		if e != nil {
			e.SetText("")
		}
	}
}

func (w *activateWizard) step(title string, objs ...fyne.CanvasObject) {
	w.title.SetText(title)
	w.focus = nil
	w.stop.Show()
	w.escape = w.stop
	w.body.Objects = objs
	w.body.Refresh()
	if w.u.win.Content() == w.content {
		// fyne leaves the focus on a widget taken off the window: the
		// last step's field would take Enter and what is typed next.
		w.u.win.Canvas().Unfocus()
	}
	w.u.activation = w
}

// Step 1: the reference code, checked as it is typed.
func (w *activateWizard) stepCode(code string) {
	u := w.u
	w.code = u.newField()
	w.code.SetPlaceHolder("ABCD-EFGH-JKMN-PQRS")
	w.codeInfo = widget.NewLabel("")
	w.codeNext = u.newPrimary(u.T("app.next"), theme.NavigateNextIcon(), w.fetchQuestions)
	w.code.OnChanged = w.checkCode
	w.code.OnSubmitted = func(string) {
		if !w.codeNext.Disabled() {
			w.fetchQuestions()
		}
	}
	w.primary = w.codeNext
	w.step(u.T("app.act.title_code"), wrapLabel(u.T("app.act.code_intro")), w.code, w.codeInfo, container.NewHBox(w.codeNext))
	w.code.SetText(code)
	w.checkCode(code)
	w.setFocus(w.code)
}

func (w *activateWizard) checkCode(s string) {
	u := w.u
	complete, err := protocol.RefCodeProgress(s)
	w.codeInfo.Importance = widget.MediumImportance
	switch {
	case err != nil:
		w.codeInfo.SetText(u.explain(err).Text)
		w.codeInfo.Importance = widget.DangerImportance
	case complete:
		w.codeInfo.SetText(u.T("app.act.code_ok"))
		w.codeInfo.Importance = widget.SuccessImportance
	default:
		w.codeInfo.SetText(u.T("app.act.code_format"))
	}
	w.codeInfo.Refresh()
	if complete {
		w.codeNext.Enable()
	} else {
		w.codeNext.Disable()
	}
}

func (w *activateWizard) client() (*activation.Client, error) {
	pol, err := w.u.policy()
	if err != nil {
		return nil, err
	}
	w.pol = pol
	return activation.New(pol, netclient.ClientOptions{})
}

// fetchQuestions asks the CA for the holder's questions.
func (w *activateWizard) fetchQuestions() {
	u := w.u
	ref, err := protocol.ParseRefCode(w.code.Text)
	if err != nil {
		w.checkCode(w.code.Text)
		return
	}
	w.ref = ref
	client, cerr := w.client() // here: the policy belongs to the window's goroutine
	w.working(u.T("app.act.contacting"))
	var q *protocol.Questions
	u.task(&w.cancel, func(ctx context.Context) error {
		if cerr != nil {
			return cerr
		}
		var err error
		q, err = client.Questions(ctx, ref)
		if err == nil && q.State != protocol.StatePending {
			err = activation.StateError(q.State)
		}
		return err
	}, func(err error) {
		if err != nil {
			w.fail(err)
			return
		}
		if w.questions == nil || w.questions.Reference != q.Reference || len(w.answers) != len(q.Questions) {
			w.forget()
			w.answers = nil // another code: other questions, no answers yet
		}
		w.questions = q
		w.stepQuestions("")
	})
}

// Step 2: the holder's secret questions (answers hidden, as on the command
// line; each entry can reveal what was typed).
func (w *activateWizard) stepQuestions(problem string) {
	u := w.u
	intro := u.T("app.act.questions_intro", "Left", w.questions.AttemptsLeft)
	if problem != "" {
		intro = u.T("app.act.questions_how") // the problem says the attempts left
	}
	objs := []fyne.CanvasObject{wrapLabel(intro)}
	if problem != "" {
		l := wrapLabel(problem)
		l.Importance = widget.DangerImportance
		objs = append(objs, l)
	}
	next := u.newPrimary(u.T("app.next"), theme.NavigateNextIcon(), w.stepStore)
	if w.answers == nil {
		for range w.questions.Questions {
			w.answers = append(w.answers, u.newSecretField())
		}
	}
	ready := func(string) {
		for _, a := range w.answers {
			if a.Text == "" {
				next.Disable()
				return
			}
		}
		next.Enable()
	}
	form := widget.NewForm()
	for i, q := range w.questions.Questions {
		a := w.answers[i]
		a.OnChanged = ready
		if i+1 < len(w.answers) {
			nextEntry := w.answers[i+1]
			a.OnSubmitted = func(string) { u.win.Canvas().Focus(nextEntry) }
		} else {
			a.OnSubmitted = func(string) {
				if !next.Disabled() {
					w.stepStore()
				}
			}
		}
		form.Append(fmt.Sprintf("%d. %s", i+1, q), a)
	}
	ready("")
	w.primary = next
	objs = append(objs, form, container.NewHBox(next))
	w.step(u.T("app.act.title_questions"), objs...)
	w.setFocus(w.answers[0])
}

// Step 3: where the key will live, among the stores the policy allows.
func (w *activateWizard) stepStore() {
	u := w.u
	var options []string
	names := map[string]config.Store{}
	for _, s := range w.pol.KeyStores {
		if s == config.StoreRemote { // the CA makes remote keys: Settings, Remote signature
			continue
		}
		label := u.T("app.act.store." + string(s))
		options = append(options, label)
		names[label] = s
	}
	w.tokenSelect = widget.NewSelect(nil, nil)
	w.tokenPIN = u.newSecretField()
	tokenBox := container.NewVBox(widget.NewForm(
		widget.NewFormItem(u.T("app.act.token"), w.tokenSelect),
		widget.NewFormItem(u.T("app.act.token_pin"), w.tokenPIN)))
	tokenBox.Hide()
	w.storeChoice = widget.NewRadioGroup(options, func(label string) {
		if names[label] == config.StorePKCS11 {
			w.listTokens()
			tokenBox.Show()
		} else {
			tokenBox.Hide()
		}
	})
	w.storeChoice.Required = true
	next := u.newPrimary(u.T("app.next"), theme.NavigateNextIcon(), func() { w.openStore(names[w.storeChoice.Selected]) })
	w.primary = next
	w.tokenPIN.OnSubmitted = func(string) { next.Tapped(nil) }
	back := u.newButton(u.T("app.back"), theme.NavigateBackIcon(), func() { w.stepQuestions("") })
	w.step(u.T("app.act.title_store"), wrapLabel(u.T("app.act.store_intro")), w.storeChoice, tokenBox, container.NewHBox(back, next))
	w.storeChoice.SetSelected(options[0])
}

// listTokens fills the token choice; the module is asked in the
// background (a reader can take its time).
func (w *activateWizard) listTokens() {
	module := w.pol.PKCS11Module()
	var tokens []pkcs.TokenInfo
	w.u.task(nil, func(context.Context) (err error) {
		tokens, err = pkcs.ListTokens(module)
		return err
	}, func(err error) {
		w.tokens = tokens
		var labels []string
		for _, t := range tokens {
			labels = append(labels, t.Label)
		}
		w.tokenSelect.SetOptions(labels)
		switch {
		case err != nil:
			w.tokenSelect.PlaceHolder = w.u.explain(err).Text
		case len(labels) == 0:
			w.tokenSelect.PlaceHolder = w.u.T("err.no_token")
		default:
			w.tokenSelect.SetSelectedIndex(0)
		}
		w.tokenSelect.Refresh()
	})
}

// openStore checks the chosen store before anything is sent to the CA.
func (w *activateWizard) openStore(name config.Store) {
	u := w.u
	switch name {
	case config.StoreKeychain:
		ks, err := local.Keychain(w.pol)
		if err == nil {
			err = ks.Check()
		}
		if err != nil {
			w.fail(err)
			return
		}
		closeStore(w.store)
		w.store = ks
		w.stepPIN()
	case config.StorePKCS11:
		i := w.tokenSelect.SelectedIndex()
		if i < 0 {
			u.showError(pkcs.ErrNoToken)
			return
		}
		pin := []byte(w.tokenPIN.Text)
		w.tokenPIN.SetText("")
		module, serial := w.pol.PKCS11Module(), w.tokens[i].Serial
		var ts *pkcs.TokenStore
		// Opening the token and checking its PIN can take a while (a
		// reader with its own keypad): in the background, once.
		next := w.primary
		next.Disable()
		u.task(nil, func(context.Context) (err error) {
			if ts, err = pkcs.OpenToken(module, serial); err == nil {
				err = ts.Login(pin)
			}
			return err
		}, func(err error) {
			next.Enable()
			if err != nil {
				clear(pin)
				if ts != nil {
					ts.Close()
				}
				u.showError(err)
				return
			}
			closeStore(w.store)
			w.store = ts
			w.finish(pin)
		})
	}
}

// Step 4: a new PIN for the keychain key, checked against the policy as it
// is typed.
func (w *activateWizard) stepPIN() {
	u := w.u
	w.pinNext = u.newPrimary(u.T("app.act.activate"), theme.ConfirmIcon(), func() { w.finish([]byte(w.pin.Text)) })
	c := u.newPINChooser(w.pol.PINPolicyFor(config.StoreKeychain), w.pinNext.Enable, w.pinNext.Disable)
	w.pin, w.pin2, w.pinInfo = c.pin, c.again, c.info
	c.again.OnSubmitted = func(string) {
		if !w.pinNext.Disabled() {
			w.finish([]byte(w.pin.Text))
		}
	}
	w.primary = w.pinNext
	back := u.newButton(u.T("app.back"), theme.NavigateBackIcon(), w.stepStore)
	w.step(u.T("app.act.title_pin"), c.rules, c.form, c.info, container.NewHBox(back, w.pinNext))
	w.setFocus(w.pin)
}

// working shows progress with a way to cancel.
func (w *activateWizard) working(what string) {
	w.status = wrapLabel(what)
	stop := w.u.newButton(w.u.T("app.cancel"), theme.CancelIcon(), func() {
		if w.cancel != nil {
			w.cancel()
		}
	})
	w.step(w.u.T("app.act.title_working"), w.status, widget.NewProgressBarInfinite(), container.NewHBox(stop))
	w.escape, w.primary = stop, nil // Enter does nothing while it works
	// Leaving now would close the token under the running work: the
	// Cancel below stops it first, and the result page then offers Close.
	w.stop.Hide()
}

// finish sends the answers, then generates the key and has it certified.
func (w *activateWizard) finish(pin []byte) {
	u := w.u
	answers := make([]string, len(w.answers))
	for i, a := range w.answers {
		answers[i] = a.Text
	}
	if w.pin != nil {
		w.pin.SetText("")
		w.pin2.SetText("")
	}
	client, cerr := w.client()
	generating := u.T("activate.generating")
	w.working(u.T("app.act.sending"))
	if client != nil {
		client.Busy = func(wait time.Duration) {
			text := u.T("activate.busy", "Seconds", int(math.Ceil(wait.Seconds())))
			u.do(func() { w.status.SetText(text) })
		}
	}
	u.task(&w.cancel, func(ctx context.Context) error {
		defer clear(pin)
		if cerr != nil {
			return cerr
		}
		auth, err := client.Answer(ctx, w.ref, answers)
		if err != nil {
			return err
		}
		u.do(func() { w.status.SetText(generating) })
		w.key, err = client.Activate(ctx, w.store, w.ref, auth, pin)
		return err
	}, func(err error) {
		var se *activation.ServerError
		switch {
		case errors.As(err, &se) && se.Code == protocol.CodeWrongAnswers:
			if se.AttemptsLeft != nil {
				w.questions.AttemptsLeft = *se.AttemptsLeft
			}
			w.stepQuestions(u.explain(err).Text)
		case err != nil:
			w.fail(err)
		default:
			w.done()
		}
	})
}

// done shows the new certificate.
func (w *activateWizard) done() {
	u := w.u
	w.forget()
	if u.demo != nil {
		if code, err := protocol.ParseRefCode(u.demo.Code()); err == nil && code == w.ref {
			u.demoUsed = true
		}
	}
	if u.settings.DefaultCert == "" {
		u.settings.DefaultCert = w.key.ID
		if err := config.SaveSettings(u.settings); err != nil {
			u.showError(err)
		}
	}
	sign := u.newPrimary(u.T("app.act.sign_now"), theme.DocumentCreateIcon(), func() {
		w.close()
		u.show(u.signer.content)
	})
	w.primary = sign
	closeBtn := u.newButton(u.T("app.close"), nil, w.close)
	w.step(u.T("app.act.title_done"),
		widget.NewIcon(theme.ConfirmIcon()),
		wrapLabel(explain.Activated(u.p, w.key.Chain[0])),
		wrapLabel(u.T("activate.kept."+w.store.Name(), "ID", w.key.ID)),
		container.NewHBox(sign, closeBtn))
	w.stop.Hide()
	w.escape = closeBtn
}

// fail says what happened and what to do; when the network may be the
// cause, it offers the doctor.
func (w *activateWizard) fail(err error) {
	u := w.u
	e := u.explain(err)
	w.failed = &explainedError{e.Text, e.Hint}
	msg := wrapLabel(e.Text)
	msg.Importance = widget.DangerImportance
	back := u.newButton(u.T("app.back"), theme.NavigateBackIcon(), func() { w.stepCode(w.code.Text) })
	buttons := container.NewHBox(back)
	w.primary = back
	if e.Code == explain.ExitUnreachable || e.Code == explain.ExitTLSAnchor || e.Code == explain.ExitBadReply {
		doctor := u.newPrimary(u.T("app.act.run_doctor"), theme.SearchIcon(), func() {
			w.close()
			u.show(u.doctor.content)
			u.doctor.run()
		})
		buttons.Add(doctor)
		w.primary = doctor
	}
	closeBtn := u.newButton(u.T("app.close"), nil, w.close)
	buttons.Add(closeBtn)
	w.step(u.T("app.act.title_failed"), widget.NewIcon(theme.ErrorIcon()), msg, wrapLabel(e.Hint), buttons)
	w.stop.Hide()
	w.escape = closeBtn
}
