package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/netcheck"
	"github.com/paraphe/paraphe/pkcs"
)

// admin holds what IT runs when deploying the suite:
//
//	paraphe admin policy show|validate FILE|init --ca URL|write …
//	paraphe admin check
func (a *app) admin(args []string) error {
	usage := &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.admin")}
	if len(args) == 0 {
		return usage
	}
	if args[0] == "check" {
		return a.diagnose(a.adminFlags("check"), args[1:], a.installationChecks)
	}
	if args[0] != "policy" || len(args) < 2 {
		return usage
	}
	switch args[1] {
	case "show":
		return a.policyShow(args[2:])
	case "validate":
		return a.policyValidate(args[2:])
	case "init":
		return a.policyInit(args[2:])
	case "write":
		return a.policyWrite(args[2:])
	}
	return usage
}

func (a *app) adminFlags(name string) *flag.FlagSet {
	return cli.FlagSet("paraphe admin "+name, a.stderr, a.p.T("usage.admin"))
}

// policyFlags are the policy fields init and write take from the command
// line (and the MSI from its public properties). Empty means "not given".
type policyFlags struct {
	ca, fingerprint, proxy, keyStores, module, pin, exchange string
	webOrigins                                               string
	bridgePort                                               int
	timeout                                                  time.Duration
}

func (a *app) addPolicyFlags(fs *flag.FlagSet) *policyFlags {
	f := &policyFlags{}
	fs.StringVar(&f.ca, "ca", "", a.p.T("flag.admin_ca"))
	fs.StringVar(&f.fingerprint, "ca-fingerprint", "", a.p.T("flag.admin_fingerprint"))
	fs.StringVar(&f.proxy, "proxy", "", a.p.T("flag.admin_proxy"))
	fs.StringVar(&f.keyStores, "key-stores", "", a.p.T("flag.admin_key_stores"))
	fs.StringVar(&f.module, "pkcs11-module", "", a.p.T("flag.admin_module"))
	fs.StringVar(&f.pin, "pin-policy", "", a.p.T("flag.admin_pin_policy"))
	// Empty is "not given", as for the others: the MSI passes every
	// property, set or not.
	fs.Func("bridge-port", a.p.T("flag.admin_bridge_port"), func(s string) (err error) {
		if s != "" {
			f.bridgePort, err = strconv.Atoi(s)
		}
		return err
	})
	fs.StringVar(&f.webOrigins, "web-origins", "", a.p.T("flag.admin_web_origins"))
	fs.StringVar(&f.exchange, "exchange", "", a.p.T("flag.admin_exchange"))
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, a.p.T("flag.admin_timeout"))
	return f
}

func (f *policyFlags) empty() bool {
	return f.ca == "" && f.fingerprint == "" && f.proxy == "" && f.keyStores == "" && f.module == "" && f.pin == "" &&
		f.bridgePort == 0 && f.webOrigins == "" && f.exchange == ""
}

// apply sets the fields given on the command line over p. A CA given
// without its fingerprint is asked for its anchors (DiscoverCA), unless p
// already names that CA with anchors; discover asks it in every case.
func (a *app) apply(p *config.Policy, f *policyFlags, discover bool) (*activation.CAInfo, error) {
	if f.proxy != "" {
		p.Proxy = f.proxy
	}
	if f.keyStores != "" {
		p.KeyStores = nil
		for _, s := range strings.Split(f.keyStores, ",") {
			p.KeyStores = append(p.KeyStores, config.Store(strings.TrimSpace(s)))
		}
	}
	if f.module != "" {
		p.PKCS11.Module = f.module
	}
	if f.bridgePort != 0 {
		p.BridgePort = f.bridgePort
	}
	switch f.webOrigins {
	case "":
	case "none":
		p.WebOrigins = nil
	default:
		p.WebOrigins = nil
		for _, o := range strings.Split(f.webOrigins, ",") {
			p.WebOrigins = append(p.WebOrigins, strings.TrimSpace(o))
		}
	}
	if f.exchange != "" {
		p.Exchange = f.exchange
	}
	if f.pin != "" {
		rules, err := parsePINSpec(p.PIN, f.pin)
		if err != nil {
			return nil, &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.pin_spec", "Spec", f.pin), Hint: a.p.T("hint.pin_spec"), Err: err}
		}
		p.PIN = rules
	}
	var fp string
	if f.fingerprint != "" {
		b, err := config.ParseFingerprint(f.fingerprint)
		if err != nil {
			return nil, a.flagValueErr(&config.FieldError{Field: "ca.anchors", Reason: config.ReasonFingerprint, Detail: f.fingerprint})
		}
		fp = hex.EncodeToString(b)
	}
	var info *activation.CAInfo
	switch {
	case f.ca == "" && fp != "":
		p.CA.Anchors = []string{fp}
	case f.ca != "" && (discover || fp == "" && (f.ca != p.CA.URL || len(p.CA.Anchors) == 0)):
		ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
		defer cancel()
		var err error
		if info, err = activation.DiscoverCA(ctx, f.ca, p.Proxy, fp); err != nil {
			return nil, a.flagValueErr(err)
		}
		p.CA = config.CA{Name: info.Service.Name, URL: f.ca, Anchors: info.Anchors, AllowSystemRoots: p.CA.AllowSystemRoots}
	case f.ca != "" && fp != "":
		if f.ca != p.CA.URL {
			p.CA.Name = ""
		}
		p.CA.URL, p.CA.Anchors = f.ca, []string{fp}
	}
	if !p.Configured() {
		return nil, config.ErrUnconfigured
	}
	if err := p.Validate(); err != nil {
		return nil, a.flagValueErr(err)
	}
	return info, nil
}

// flagValueErr says which command-line value a policy field rejects.
func (a *app) flagValueErr(err error) error {
	var fe *config.FieldError
	if errors.As(err, &fe) {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.policy_value", "Field", fe.Field, "Reason", a.p.T("policy."+fe.Reason), "Detail", fe.Detail), Hint: a.p.T("hint.admin_usage"), Err: err}
	}
	return err
}

// parsePINSpec applies a PIN policy written on one line, for command lines
// and MSI properties where JSON's quotes do not survive:
// "token:min_length=6,max_length=6;keychain:min_length=12,require_special=false".
// Fields are those of the policy file's pin_policy; a field without a
// value is true.
func parsePINSpec(rules config.PINRules, spec string) (config.PINRules, error) {
	cur, _ := json.Marshal(rules)
	m := map[string]map[string]any{}
	json.Unmarshal(cur, &m)
	for part := range strings.SplitSeq(spec, ";") {
		store, fields, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || (store != "keychain" && store != "token") {
			return rules, fmt.Errorf("%q: expected keychain: or token:", part)
		}
		if m[store] == nil {
			m[store] = map[string]any{}
		}
		for kv := range strings.SplitSeq(fields, ",") {
			k, v, hasValue := strings.Cut(strings.TrimSpace(kv), "=")
			switch n, err := strconv.Atoi(v); {
			case !hasValue || v == "true":
				m[store][k] = true
			case v == "false":
				m[store][k] = false
			case err == nil:
				m[store][k] = n
			default:
				return rules, fmt.Errorf("%q: %q is neither a number nor true or false", kv, v)
			}
		}
	}
	data, _ := json.Marshal(m)
	var out config.PINRules
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return rules, err
	}
	return out, nil
}

func marshalPolicy(p *config.Policy) []byte {
	data, _ := json.MarshalIndent(p, "", "  ")
	return append(data, '\n')
}

// policyInit prints a policy for the CA at --ca, with its anchors and name
// taken from the CA itself.
func (a *app) policyInit(args []string) error {
	set := a.adminFlags("policy init")
	f := a.addPolicyFlags(set)
	if pos, err := cli.Parse(set, args); err != nil || len(pos) != 0 || f.ca == "" {
		return a.usageErr(errors.New(a.p.T("usage.admin")))
	}
	p := config.DefaultPolicy()
	info, err := a.apply(&p, f, true)
	if err != nil {
		return err
	}
	a.stdout.Write(marshalPolicy(&p))
	a.tellAnchors(info, f.fingerprint != "")
	return nil
}

// tellAnchors says which roots a policy now trusts, so that IT compares
// them with what the CA's operator published, and what to open.
func (a *app) tellAnchors(info *activation.CAInfo, given bool) {
	if info == nil {
		return
	}
	for i, r := range info.Roots {
		fmt.Fprintln(a.stderr, a.p.T("admin.anchor", "Subject", r.Subject.String(), "Fingerprint", info.Anchors[i]))
	}
	if !given {
		fmt.Fprintln(a.stderr, a.p.T("admin.compare_fingerprint"))
	}
	if len(info.Service.Endpoints) > 0 {
		fmt.Fprintln(a.stderr, a.p.T("admin.endpoints", "Endpoints", strings.Join(info.Service.Endpoints, " ")))
	}
}

// policyWrite changes the machine policy in place: the fields given, over
// what the file already says (or the defaults). The MSI runs it at install
// time with its public properties; a property left empty changes nothing.
//
// --log FILE appends what it says to FILE as well: Windows Installer keeps
// no output of the programs it runs, so the MSI names a log beside the
// policy for IT to read when a deployment fails.
func (a *app) policyWrite(args []string) error {
	set := a.adminFlags("policy write")
	f := a.addPolicyFlags(set)
	logFile := set.String("log", "", a.p.T("flag.admin_log"))
	if pos, err := cli.Parse(set, args); err != nil || len(pos) != 0 {
		return a.usageErr(errors.New(a.p.T("usage.admin")))
	}
	if *logFile == "" {
		return a.writePolicy(f)
	}
	os.MkdirAll(filepath.Dir(*logFile), 0o755)
	log, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return a.writeErr(*logFile, err)
	}
	defer log.Close()
	fmt.Fprintf(log, "%s paraphe %s admin policy write\n", a.now().UTC().Format(time.RFC3339), paraphVersion())
	stdout, stderr := a.stdout, a.stderr
	a.stdout, a.stderr = io.MultiWriter(stdout, log), io.MultiWriter(stderr, log)
	defer func() { a.stdout, a.stderr = stdout, stderr }()
	err = a.writePolicy(f)
	if err != nil {
		cli.Exit(log, "paraphe", a.exitError(err), a.p.T("hint"))
	}
	return err
}

// writePolicy is policy write once its command line is read.
func (a *app) writePolicy(f *policyFlags) error {
	path := config.PolicyPath()
	if f.empty() {
		fmt.Fprintln(a.stdout, a.p.T("admin.nothing_to_write", "Path", path))
		return nil
	}
	p := config.DefaultPolicy()
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		old, derr := config.DecodePolicy(data)
		if derr != nil {
			fmt.Fprintln(a.stderr, a.p.T("admin.replacing_unreadable", "Path", path))
			break
		}
		p = *old
	case errors.Is(err, fs.ErrNotExist):
	default:
		return a.writeErr(path, err)
	}
	info, err := a.apply(&p, f, false)
	if errors.Is(err, config.ErrUnconfigured) {
		return &cli.ExitError{Code: explain.ExitUnconfigured, Message: a.p.T("err.write_no_ca", "Path", path), Hint: a.p.T("hint.write_no_ca")}
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return a.writeErr(path, err)
	}
	if err := atomicfile.Write(path, marshalPolicy(&p), 0o644); err != nil {
		return a.writeErr(path, err)
	}
	fmt.Fprintln(a.stdout, a.p.T("admin.written", "Path", path, "URL", p.CA.URL))
	a.tellAnchors(info, f.fingerprint != "")
	return nil
}

func (a *app) writeErr(path string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return &cli.ExitError{Code: explain.ExitNotAdmin, Message: a.p.T("err.not_admin", "Path", path), Hint: a.p.T("hint.not_admin"), Err: err}
	}
	return &cli.ExitError{Code: explain.ExitError, Message: a.p.T("err.write_file", "File", path), Err: err}
}

// policyValidate checks a policy file before it is deployed.
func (a *app) policyValidate(args []string) error {
	set := a.adminFlags("policy validate")
	pos, err := cli.Parse(set, args)
	if err != nil || len(pos) != 1 {
		return a.usageErr(errors.New(a.p.T("usage.admin")))
	}
	p, err := config.ReadPolicy(pos[0])
	switch {
	case errors.Is(err, config.ErrNoPolicy):
		return &cli.ExitError{Code: explain.ExitNoPolicy, Message: a.p.T("err.read_file", "File", pos[0]), Err: err}
	case errors.Is(err, config.ErrUnconfigured):
		return &cli.ExitError{Code: explain.ExitUnconfigured, Message: a.p.T("err.unconfigured", "Path", pos[0]), Hint: a.p.T("hint.unconfigured"), Err: err}
	case err != nil:
		return a.exitError(err)
	}
	fmt.Fprintln(a.stdout, a.p.T("admin.valid", "Path", p.Path, "URL", p.CA.URL, "Anchors", len(p.CA.Anchors)))
	return nil
}

// policySetting is one field of the policy in force and where it comes from.
type policySetting struct {
	Field  string `json:"field"`
	Value  string `json:"value"`
	Source string `json:"source"` // "file", "default" or "user" (settings the policy lets users make)
}

// policyShow prints the policy in force field by field, each with where its
// value comes from, then whether the policy can be used.
func (a *app) policyShow(args []string) error {
	set := a.adminFlags("policy show")
	asJSON := set.Bool("json", false, a.p.T("flag.json"))
	if pos, err := cli.Parse(set, args); err != nil || len(pos) != 0 {
		return a.usageErr(errors.New(a.p.T("usage.admin")))
	}
	path := config.PolicyPath()
	from := "system"
	if os.Getenv("PARAPHE_POLICY") != "" {
		from = "env"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		_, err = a.policy() // says it the usual way: missing, unreadable
		return err
	}
	p, derr := config.DecodePolicy(data)
	if derr != nil {
		_, err = config.ReadPolicy(path)
		return a.exitError(err)
	}
	p.ApplyUser(a.settings) // what user_may lets this user set
	settings := policySettings(p, data)
	_, valid := config.ReadPolicy(path)
	if *asJSON {
		out := struct {
			Path     string          `json:"path"`
			From     string          `json:"from"` // "env" (PARAPHE_POLICY) or "system"
			Valid    bool            `json:"valid"`
			Settings []policySetting `json:"settings"`
		}{path, from, valid == nil, settings}
		cli.WriteJSON(a.stdout, out)
	} else {
		fmt.Fprintln(a.stdout, a.p.T("admin.show.path."+from, "Path", path))
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		for _, s := range settings {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Field, s.Value, a.p.T("admin.show.source."+s.Source))
		}
		tw.Flush()
	}
	if valid != nil {
		if errors.Is(valid, config.ErrUnconfigured) {
			return &cli.ExitError{Code: explain.ExitUnconfigured, Message: a.p.T("err.unconfigured", "Path", path), Hint: a.p.T("hint.unconfigured"), Err: valid}
		}
		return a.exitError(valid)
	}
	return nil
}

// policySettings flattens the policy in force into dotted fields, marking
// those the file sets and those the user's settings set (p.FromUser); the
// PKCS#11 module shows the platform's default.
func policySettings(p *config.Policy, file []byte) []policySetting {
	effective := map[string]any{}
	data, _ := json.Marshal(p)
	json.Unmarshal(data, &effective)
	if p.PKCS11.Module == "" {
		pk, _ := effective["pkcs11"].(map[string]any)
		if pk == nil {
			pk = map[string]any{}
		}
		pk["module"] = p.PKCS11Module()
		effective["pkcs11"] = pk
	}
	var raw map[string]any
	json.Unmarshal(file, &raw)
	set := map[string]bool{}
	flatten("", raw, func(k string, _ any) { set[k] = true })
	var out []policySetting
	flatten("", effective, func(k string, v any) {
		s := policySetting{Field: k, Source: "default"}
		switch {
		case slices.Contains(p.FromUser, k):
			s.Source = "user"
		case set[k]:
			s.Source = "file"
		}
		if str, ok := v.(string); ok {
			s.Value = str
		} else {
			b, _ := json.Marshal(v)
			s.Value = string(b)
		}
		out = append(out, s)
	})
	slices.SortFunc(out, func(x, y policySetting) int { return strings.Compare(x.Field, y.Field) })
	return out
}

// flatten calls leaf for every value below m that is not an object, with
// its dotted path ("pin_policy.token.min_length"); lists are leaves.
func flatten(prefix string, m map[string]any, leaf func(string, any)) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flatten(prefix+k+".", sub, leaf)
			continue
		}
		leaf(prefix+k, v)
	}
}

// installationChecks are admin check's look at this computer: the program,
// the policy file's permissions, the PKCS#11 module and the keychain.
func (a *app) installationChecks(pol *config.Policy) func(context.Context) []netcheck.Finding {
	return func(context.Context) []netcheck.Finding {
		exe, _ := os.Executable()
		out := []netcheck.Finding{{Check: netcheck.CheckEnvironment, Severity: netcheck.OK, Code: netcheck.CodeInstalled, Observed: paraphVersion(), Target: exe}}
		if f := policyModeFinding(config.PolicyPath()); f != nil {
			out = append(out, *f)
		}
		if pol == nil || pol.Allows(config.StoreKeychain) {
			out = append(out, local.KeychainFinding(pol))
		}
		if pol != nil && pol.Allows(config.StorePKCS11) {
			out = append(out, pkcs11Finding(pol))
		}
		return out
	}
}

// policyModeFinding checks that every user can read the machine policy and
// none but its owner (root) can change it. Windows permissions are ACLs,
// which the MSI sets; they are not judged here.
func policyModeFinding(path string) *netcheck.Finding {
	st, err := os.Stat(path)
	if err != nil || runtime.GOOS == "windows" {
		return nil
	}
	f := &netcheck.Finding{Check: netcheck.CheckPolicy, Target: path, Observed: st.Mode().Perm().String()}
	switch {
	case st.Mode().Perm()&0o004 == 0:
		f.Severity, f.Code, f.Fix = netcheck.Error, netcheck.CodePolicyUnreadable, netcheck.FixPolicyMode
	case st.Mode().Perm()&0o022 != 0:
		f.Severity, f.Code, f.Fix = netcheck.Warning, netcheck.CodePolicyWritable, netcheck.FixPolicyMode
	default:
		f.Severity, f.Code = netcheck.OK, netcheck.CodePolicyProtected
	}
	return f
}

// pkcs11Finding loads the policy's PKCS#11 module and counts its tokens. A
// module that cannot be loaded blocks when tokens are the only store.
func pkcs11Finding(pol *config.Policy) netcheck.Finding {
	module := pol.PKCS11Module()
	f := netcheck.Finding{Check: netcheck.CheckKeystore, Target: module}
	tokens, err := pkcs.ListTokens(module)
	sev := netcheck.Warning
	if len(pol.KeyStores) == 1 {
		sev = netcheck.Error
	}
	switch {
	case errors.Is(err, pkcs.ErrNoPKCS11):
		f.Severity, f.Code, f.Fix = sev, netcheck.CodePKCS11Unsupported, netcheck.FixUseKeychain
	case err != nil:
		f.Severity, f.Code, f.Fix = sev, netcheck.CodePKCS11ModuleMissing, netcheck.FixInstallModule
	default:
		f.Severity, f.Code, f.Observed = netcheck.OK, netcheck.CodePKCS11OK, strconv.Itoa(len(tokens))
	}
	return f
}
