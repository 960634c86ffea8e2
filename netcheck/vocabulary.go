package netcheck

// The doctor's vocabulary: what each finding is about (Check), what was
// observed (Code), what to do (Fix) and the report's Verdict. They are the
// report's JSON, and the user interfaces say each as the catalogue's
// "doctor.check.", "doctor.code.", "doctor.fix." or "doctor.verdict." key
// (assets/translations), which the catalogue's test checks for every
// value listed here. A new check adds its words here and in the catalogue,
// including the checks of this computer the caller makes (Options.Local).

// Check names what a finding is about.
type Check string

// Checks, in the order a cause is looked for: an earlier step's failure
// explains the later ones.
const (
	CheckPolicy      Check = "policy"
	CheckProxy       Check = "proxy"
	CheckDNS         Check = "dns"
	CheckTCP         Check = "tcp"
	CheckTLS         Check = "tls"
	CheckService     Check = "service"
	CheckClock       Check = "clock"
	CheckTSA         Check = "tsa"
	CheckCRL         Check = "crl"
	CheckOCSP        Check = "ocsp"
	CheckKeystore    Check = "keystore"
	CheckCertificate Check = "certificate"
	CheckEnvironment Check = "environment"
)

// Checks are every Check, in the order a cause is looked for.
var Checks = []Check{CheckPolicy, CheckProxy, CheckDNS, CheckTCP, CheckTLS, CheckService, CheckClock,
	CheckTSA, CheckCRL, CheckOCSP, CheckKeystore, CheckCertificate, CheckEnvironment}

// Code is what a check observed.
type Code string

// Codes, by the check that reports them (some serve several).
const (
	// The policy and the installation.
	CodePolicyValid        Code = "policy_valid"
	CodePolicyUnconfigured Code = "policy_unconfigured"
	CodePolicyInvalid      Code = "policy_invalid"
	CodeNotInstalled       Code = "not_installed"
	CodeNoPolicy           Code = "no_policy"
	CodeBadURL             Code = "bad_url"
	CodeBadPolicy          Code = "bad_policy"
	CodeInstalled          Code = "installed"
	CodePolicyUnreadable   Code = "policy_unreadable"
	CodePolicyWritable     Code = "policy_writable"
	CodePolicyProtected    Code = "policy_protected"

	// The proxy.
	CodeDirect                     Code = "direct"
	CodeViaProxy                   Code = "via_proxy"
	CodePACFailed                  Code = "pac_failed"
	CodeTunnelOpen                 Code = "tunnel_open"
	CodeProxyAuthUnsupported       Code = "proxy_auth_unsupported"
	CodeProxyAuthRejected          Code = "proxy_auth_rejected"
	CodeProxyAuthRequired          Code = "proxy_auth_required"
	CodeProxyCredentialsUnreadable Code = "proxy_credentials_unreadable"
	CodeProxyDenied                Code = "proxy_denied"
	CodeProxyRefused               Code = "proxy_refused"
	CodeProxyUnreachable           Code = "proxy_unreachable"
	CodeProxyNoAnswer              Code = "proxy_no_answer"
	CodeSOCKSTargetRefused         Code = "socks_target_refused"
	CodeSOCKSTargetUnreachable     Code = "socks_target_unreachable"

	// Names, ports and the secure connection.
	CodeIPAddress       Code = "ip_address"
	CodeResolved        Code = "resolved"
	CodeNotFound        Code = "not_found"
	CodeDNSTimeout      Code = "dns_timeout"
	CodeDNSFailed       Code = "dns_failed"
	CodeOpen            Code = "open"
	CodeRefused         Code = "refused"
	CodeFiltered        Code = "filtered"
	CodeUnreachable     Code = "unreachable"
	CodeVerified        Code = "verified"
	CodeIntercepted     Code = "intercepted"
	CodeExpiredOrClock  Code = "expired_or_clock"
	CodeWrongName       Code = "wrong_name"
	CodeHandshakeFailed Code = "handshake_failed"

	// The CA's services and the clock.
	CodeAnswered          Code = "answered"
	CodeNotParaphe        Code = "not_paraphe"
	CodeBusy              Code = "busy" // 503: overloaded or out of service for now
	CodeCACertsUnreadable Code = "cacerts_unreadable"
	CodeAnchorMatches     Code = "anchor_matches"
	CodeAnchorMismatch    Code = "anchor_mismatch"
	CodeNotChecked        Code = "not_checked"
	CodeBadReply          Code = "bad_reply"
	CodeStale             Code = "stale"
	CodeCurrent           Code = "current"
	CodeNoDate            Code = "no_date"
	CodeSkew              Code = "skew"
	CodeInSync            Code = "in_sync"

	// This computer: its key stores and certificates.
	CodeKeychainOK          Code = "keychain_ok"
	CodeKeychainUnavailable Code = "keychain_unavailable"
	CodePKCS11OK            Code = "pkcs11_ok"
	CodePKCS11Unsupported   Code = "pkcs11_unsupported"
	CodePKCS11ModuleMissing Code = "pkcs11_module_missing"
	CodeCertOK              Code = "cert_ok"
	CodeCertExpiring        Code = "cert_expiring"
	CodeCertExpired         Code = "cert_expired"
	CodeNoCert              Code = "no_cert"

	// Any check that did not finish in time.
	CodeCheckTimedOut Code = "check_timed_out"
)

// Codes are every Code.
var Codes = []Code{
	CodePolicyValid, CodePolicyUnconfigured, CodePolicyInvalid, CodeNotInstalled, CodeNoPolicy, CodeBadURL,
	CodeBadPolicy, CodeInstalled, CodePolicyUnreadable, CodePolicyWritable, CodePolicyProtected,
	CodeDirect, CodeViaProxy, CodePACFailed, CodeTunnelOpen, CodeProxyAuthUnsupported, CodeProxyAuthRejected,
	CodeProxyAuthRequired, CodeProxyCredentialsUnreadable, CodeProxyDenied, CodeProxyRefused,
	CodeProxyUnreachable, CodeProxyNoAnswer, CodeSOCKSTargetRefused, CodeSOCKSTargetUnreachable,
	CodeIPAddress, CodeResolved, CodeNotFound, CodeDNSTimeout, CodeDNSFailed, CodeOpen, CodeRefused,
	CodeFiltered, CodeUnreachable, CodeVerified, CodeIntercepted, CodeExpiredOrClock, CodeWrongName,
	CodeHandshakeFailed,
	CodeAnswered, CodeNotParaphe, CodeBusy, CodeCACertsUnreadable, CodeAnchorMatches, CodeAnchorMismatch,
	CodeNotChecked, CodeBadReply, CodeStale, CodeCurrent, CodeNoDate, CodeSkew, CodeInSync,
	CodeKeychainOK, CodeKeychainUnavailable, CodePKCS11OK, CodePKCS11Unsupported, CodePKCS11ModuleMissing,
	CodeCertOK, CodeCertExpiring, CodeCertExpired, CodeNoCert,
	CodeCheckTimedOut,
}

// Fix is what the helpdesk, IT or the user should do about a finding.
type Fix string

// Fixes, by who acts.
const (
	// IT or the helpdesk, on this computer's installation and policy.
	FixAskIT               Fix = "ask_it"
	FixAskITInstall        Fix = "ask_it_install"
	FixInstallAdminPackage Fix = "install_admin_package"
	FixInstallPolicy       Fix = "install_policy"
	FixSetCA               Fix = "set_ca"
	FixPolicyMode          Fix = "policy_mode"
	FixInstallModule       Fix = "install_module"
	FixUseKeychain         Fix = "use_keychain"
	FixInstallKeyring      Fix = "install_keyring"

	// The network: names, firewall, proxy.
	FixCheckName             Fix = "check_name"
	FixCheckDNS              Fix = "check_dns"
	FixCheckNetwork          Fix = "check_network"
	FixCheckPAC              Fix = "check_pac"
	FixOpenPort              Fix = "open_port"
	FixServerDownOrPort      Fix = "server_down_or_port"
	FixConfigureProxy        Fix = "configure_proxy"
	FixAllowCAOnProxy        Fix = "allow_ca_on_proxy"
	FixProxyCredentials      Fix = "proxy_credentials"
	FixExemptCAFromProxyAuth Fix = "exempt_ca_from_proxy_auth"
	FixBypassInspection      Fix = "bypass_inspection"
	FixCheckURLOrProxy       Fix = "check_url_or_proxy"

	// The CA's operator, the clock, the user's certificate, the doctor.
	FixAskCA       Fix = "ask_ca"
	FixSyncClock   Fix = "sync_clock"
	FixActivate    Fix = "activate"
	FixRenew       Fix = "renew"
	FixRetryLonger Fix = "retry_longer"
	FixRetryLater  Fix = "retry_later"
)

// Fixes are every Fix.
var Fixes = []Fix{
	FixAskIT, FixAskITInstall, FixInstallAdminPackage, FixInstallPolicy, FixSetCA, FixPolicyMode,
	FixInstallModule, FixUseKeychain, FixInstallKeyring,
	FixCheckName, FixCheckDNS, FixCheckNetwork, FixCheckPAC, FixOpenPort, FixServerDownOrPort,
	FixConfigureProxy, FixAllowCAOnProxy, FixProxyCredentials, FixExemptCAFromProxyAuth,
	FixBypassInspection, FixCheckURLOrProxy,
	FixAskCA, FixSyncClock, FixActivate, FixRenew, FixRetryLonger, FixRetryLater,
}

// Verdict sums up a report.
type Verdict string

// Verdicts of a report.
const (
	Works        Verdict = "works"
	WorksWarning Verdict = "works_with_warnings"
	Blocked      Verdict = "blocked"
)

// Verdicts are every Verdict.
var Verdicts = []Verdict{Works, WorksWarning, Blocked}
