package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/assets"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
)

// settingsScreen holds the user's choices (language, default certificate)
// and shows what the machine policy sets for them (CA, proxy, stores).
type settingsScreen struct {
	u        *UI
	content  fyne.CanvasObject
	language *widget.Select
	cert     *widget.Select
	certs    []local.Cert
	// The usual signature.
	visible          *widget.Check
	corner, level    *widget.Select
	reason, location *field
	trust            *trustCard
	remote           *remoteCard   // nil when the policy allows no remote signing
	bridge           *widget.Label // whether the signing bridge runs (bridge.go)
}

// languageNames are shown in their own language.
var languageNames = map[string]string{"en": "English", "fr": "Français", "it": "Italiano"}

func newSettingsScreen(u *UI) *settingsScreen {
	s := &settingsScreen{u: u}
	options := []string{u.T("app.settings.lang_auto")}
	for _, l := range assets.Languages {
		options = append(options, languageNames[l])
	}
	s.language = widget.NewSelect(options, nil)
	switch i := indexOf(assets.Languages, u.settings.Language); {
	case u.settings.Language == "" || i < 0:
		s.language.SetSelectedIndex(0)
	default:
		s.language.SetSelectedIndex(i + 1)
	}
	s.language.OnChanged = func(string) {
		lang := ""
		if i := s.language.SelectedIndex(); i > 0 {
			lang = assets.Languages[i-1]
		}
		if lang != u.settings.Language {
			u.setLanguage(lang)
		}
	}

	s.cert = widget.NewSelect(nil, func(string) {
		if i := s.cert.SelectedIndex(); i >= 0 && i < len(s.certs) && s.certs[i].ID != u.settings.DefaultCert {
			u.settings.DefaultCert = s.certs[i].ID
			if err := config.SaveSettings(u.settings); err != nil {
				u.showError(err)
			}
			u.home.refresh()
		}
	})
	s.loadCerts()
	pol, _ := u.policy()
	s.signatureDefaults()
	s.trust = newTrustCard(u)
	s.remote = newRemoteCard(u, pol)

	none := u.T("app.settings.none")
	or := func(s string) string {
		if s == "" {
			return none
		}
		return s
	}
	policyFile, ca, proxy, stores, module := none, none, none, none, none
	if pol != nil {
		policyFile = or(pol.Path)
		if u.demo != nil {
			policyFile = u.T("app.settings.demo_policy")
		}
		ca = pol.CA.URL
		if pol.CA.Name != "" {
			ca = pol.CA.Name + " — " + ca
		}
		proxy = explain.Proxy(u.p, pol.Proxy)
		var st []string
		for _, k := range pol.KeyStores {
			st = append(st, u.T("store."+string(k)))
		}
		stores = strings.Join(st, ", ")
		module = or(pol.PKCS11Module())
	}
	ro := func(s string) fyne.CanvasObject { return wrapLabel(s) }
	s.bridge = wrapLabel(u.bridgeStatus())
	policyTitle, policyNote := u.T("app.settings.policy"), u.T("app.settings.policy_note")
	if u.demo != nil {
		policyTitle, policyNote = u.T("app.demo.running_title"), u.T("app.demo.running", "URL", pol.CA.URL)
	}
	s.content = container.NewVScroll(container.NewVBox(
		heading(u.T("app.settings.title")),
		widget.NewForm(
			widget.NewFormItem(u.T("app.settings.language"), s.language),
			widget.NewFormItem(u.T("app.settings.default_cert"), s.cert),
		),
		newCard(u.T("app.settings.signature"), u.T("app.settings.signature_note"), widget.NewForm(
			widget.NewFormItem(u.T("app.sign.appearance"), container.NewVBox(s.visible, s.corner)),
			widget.NewFormItem(u.T("app.sign.reason"), s.reason),
			widget.NewFormItem(u.T("app.sign.location"), s.location),
			widget.NewFormItem(u.T("app.sign.level"), s.level),
		)),
		s.trust.content,
		s.remoteContent(),
		newCard(policyTitle, policyNote, widget.NewForm(
			widget.NewFormItem(u.T("app.settings.ca"), ro(ca)),
			widget.NewFormItem(u.T("app.settings.proxy"), s.userField(proxy, pol != nil && pol.UserMay.Proxy, &u.settings.Proxy,
				func(v string) error { return translated(config.CheckProxy(v), u.T("app.settings.bad_proxy")) })),
			widget.NewFormItem(u.T("app.settings.stores"), ro(stores)),
			widget.NewFormItem(u.T("app.settings.module"), s.userField(module, pol != nil && pol.UserMay.PKCS11Module, &u.settings.PKCS11Module,
				func(v string) error { return translated(checkModule(v), u.T("app.settings.bad_module")) })),
			widget.NewFormItem(u.T("app.settings.policy_file"), ro(policyFile)),
			widget.NewFormItem(u.T("app.settings.bridge"), s.bridge),
		)),
		widget.NewCard(u.T("app.settings.about"), "", widget.NewForm(
			widget.NewFormItem(u.T("app.settings.version"), ro(u.opt.Version)),
			widget.NewFormItem(u.T("app.settings.data"), ro(or(homeDir()))),
		)),
	))
	return s
}

// remoteContent is the remote signature's card, or nothing shown.
func (s *settingsScreen) remoteContent() fyne.CanvasObject {
	if s.remote == nil {
		none := widget.NewLabel("")
		none.Hide()
		return none
	}
	return s.remote.content
}

// signatureDefaults makes the fields of the usual signature, which save
// themselves and apply to the Sign screen at once.
func (s *settingsScreen) signatureDefaults() {
	u := s.u
	d := &u.settings.Signature
	save := func() {
		if err := config.SaveSettings(u.settings); err != nil {
			u.showError(err)
		}
		u.signer.applyDefaults(*d)
	}
	var cornerLabels, levelLabels []string
	for _, c := range corners {
		cornerLabels = append(cornerLabels, u.T("app.sign.corner."+string(c)))
	}
	for _, l := range levels {
		levelLabels = append(levelLabels, u.T("app.sign.level."+string(l)))
	}
	s.visible = widget.NewCheck(u.T("app.sign.visible"), nil)
	s.corner = widget.NewSelect(cornerLabels, nil)
	s.level = widget.NewSelect(levelLabels, nil)
	s.reason, s.location = u.newField(), u.newField()
	s.visible.SetChecked(d.Visible)
	s.corner.SetSelectedIndex(max(indexOf(cornerNames(), d.Corner), 0))
	s.level.SetSelectedIndex(1)
	for i, l := range levels {
		if string(l) == d.Level {
			s.level.SetSelectedIndex(i)
		}
	}
	s.reason.SetText(d.Reason)
	s.location.SetText(d.Location)
	s.visible.OnChanged = func(on bool) { d.Visible = on; save() }
	s.corner.OnChanged = func(string) { d.Corner = string(corners[s.corner.SelectedIndex()]); save() }
	s.level.OnChanged = func(string) { d.Level = string(levels[s.level.SelectedIndex()]); save() }
	s.reason.OnChanged = func(v string) { d.Reason = v; save() }
	s.location.OnChanged = func(v string) { d.Location = v; save() }
}

// userField shows value, or where the policy lets the user set it, an entry
// that keeps the user's own value in *setting (empty: the policy's).
func (s *settingsScreen) userField(value string, allowed bool, setting *string, check func(string) error) fyne.CanvasObject {
	u := s.u
	if !allowed {
		return wrapLabel(value)
	}
	e := u.newField()
	e.SetPlaceHolder(value)
	e.SetText(*setting)
	e.Validator = func(v string) error {
		if v == "" {
			return nil
		}
		return check(v)
	}
	save := u.newButton(u.T("app.settings.save"), nil, func() {
		if err := e.Validate(); err != nil {
			u.showMessage(u.T("app.settings.title"), err.Error(), "")
			return
		}
		*setting = e.Text
		if err := config.SaveSettings(u.settings); err != nil {
			u.showError(err)
			return
		}
		if u.demo == nil {
			u.pol, u.polErr = config.LoadPolicy()
		}
		u.showMessage(u.T("app.settings.title"), u.T("app.settings.saved"), "")
	})
	return container.NewBorder(nil, nil, nil, save, e)
}

// checkModule accepts the absolute path of a file.
func checkModule(path string) error {
	if !filepath.IsAbs(path) {
		return os.ErrInvalid
	}
	_, err := os.Stat(path)
	return err
}

// translated is err said as msg (nil stays nil).
func translated(err error, msg string) error {
	if err != nil {
		return errors.New(msg)
	}
	return nil
}

// showLanguage shows the language in force (after a refused change).
func (s *settingsScreen) showLanguage() {
	onChanged := s.language.OnChanged
	s.language.OnChanged = nil
	if i := indexOf(assets.Languages, s.u.settings.Language); i >= 0 {
		s.language.SetSelectedIndex(i + 1)
	} else {
		s.language.SetSelectedIndex(0)
	}
	s.language.OnChanged = onChanged
}

// loadCerts fills the default certificate choice.
func (s *settingsScreen) loadCerts() {
	s.certs = s.u.certs
	var names []string
	selected := -1
	for i, c := range s.certs {
		names = append(names, s.u.certLabel(c, s.certs))
		if c.ID == s.u.settings.DefaultCert {
			selected = i
		}
	}
	s.cert.SetOptions(names)
	if selected >= 0 {
		s.cert.SetSelectedIndex(selected)
	}
}

func homeDir() string {
	h, _ := config.Home()
	return h
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
