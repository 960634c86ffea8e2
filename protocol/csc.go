package protocol

// Remote signing: the holder's key lives in the CA's HSM and signs
// hashes through the Cloud Signature Consortium's API, version 2.0
// (CSCPrefix: info, auth/login, credentials/list, credentials/info,
// credentials/authorize, signatures/signHash), whose JSON names and error
// codes these types write as the specification does, so that any CSC
// client can use the service. What CSC leaves to each service — the
// holder's first password change, the activation of the credential with
// the PUK (a new PIN and a one-time-password generator), unlocking, PIN
// change and renewal — is Paraphe's own API under RemotePrefix, with the
// same bearer tokens and error shape.

// The remote signing APIs, on the CA's HTTPS address.
const (
	CSCPrefix    = "/csc/v2/"
	RemotePrefix = "/remote/v1/"
)

// CSCSpecs is the version of the CSC specification the service implements.
const CSCSpecs = "2.0.0.2"

// CSCInfo is the reply to POST {csc}info.
type CSCInfo struct {
	Specs          string             `json:"specs"`
	Name           string             `json:"name"`
	Logo           string             `json:"logo"`
	Region         string             `json:"region"`
	Lang           string             `json:"lang"`
	Description    string             `json:"description"`
	AuthType       []string           `json:"authType"` // "basic": auth/login with HTTP Basic
	Methods        []string           `json:"methods"`
	SignAlgorithms CSCSignAlgorithms  `json:"signAlgorithms"`
	Extensions     *CSCInfoExtensions `json:"paraphe,omitempty"`
}

// CSCSignAlgorithms are the signature algorithms' OIDs the service signs with.
type CSCSignAlgorithms struct {
	Algos []string `json:"algos"`
}

// CSCInfoExtensions name Paraphe's own API beside CSC.
type CSCInfoExtensions struct {
	Remote string `json:"remote"` // RemotePrefix's absolute URL
}

// CSCLogin is the body of POST {csc}auth/login: with the user ID and
// password in HTTP Basic, or with a refresh token.
type CSCLogin struct {
	RememberMe   bool   `json:"rememberMe,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ClientData   string `json:"clientData,omitempty"`
}

// CSCToken is the reply to auth/login.
type CSCToken struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int    `json:"expires_in"` // seconds
}

// CSCListRequest is the body of POST {csc}credentials/list.
type CSCListRequest struct {
	UserID         string `json:"userID,omitempty"`
	CredentialInfo bool   `json:"credentialInfo,omitempty"`
	Certificates   string `json:"certificates,omitempty"` // none, single, chain
	CertInfo       bool   `json:"certInfo,omitempty"`
	AuthInfo       bool   `json:"authInfo,omitempty"`
	OnlyValid      bool   `json:"onlyValid,omitempty"`
	Lang           string `json:"lang,omitempty"`
	ClientData     string `json:"clientData,omitempty"`
}

// CSCList is the reply to credentials/list.
type CSCList struct {
	CredentialIDs   []string            `json:"credentialIDs"`
	CredentialInfos []CSCCredentialInfo `json:"credentialInfos,omitempty"`
	OnlyValid       bool                `json:"onlyValid"`
}

// CSCInfoRequest is the body of POST {csc}credentials/info.
type CSCInfoRequest struct {
	CredentialID string `json:"credentialID"`
	Certificates string `json:"certificates,omitempty"` // none, single (the default), chain
	CertInfo     bool   `json:"certInfo,omitempty"`
	AuthInfo     bool   `json:"authInfo,omitempty"`
	Lang         string `json:"lang,omitempty"`
	ClientData   string `json:"clientData,omitempty"`
}

// CSCCredentialInfo is the reply to credentials/info, and an element of
// CSCList.CredentialInfos (with CredentialID). AuthMode, PIN and OTP are
// CSC 1.0's way of saying what Auth says, kept for its clients.
type CSCCredentialInfo struct {
	CredentialID string         `json:"credentialID,omitempty"`
	Description  string         `json:"description,omitempty"`
	Key          CSCKeyInfo     `json:"key"`
	Cert         *CSCCertInfo   `json:"cert,omitempty"`
	Auth         *CSCAuthInfo   `json:"auth,omitempty"`
	SCAL         string         `json:"SCAL"`
	Multisign    int            `json:"multisign"`
	Lang         string         `json:"lang,omitempty"`
	AuthMode     string         `json:"authMode"`
	PIN          *CSCV1Presence `json:"PIN,omitempty"`
	OTP          *CSCV1Presence `json:"OTP,omitempty"`
}

// CSCKeyInfo is a credential's key: enabled, or disabled while it is not
// activated or its PIN is blocked.
type CSCKeyInfo struct {
	Status string   `json:"status"` // enabled, disabled
	Algo   []string `json:"algo"`   // OIDs
	Len    int      `json:"len"`    // bits
	Curve  string   `json:"curve,omitempty"`
}

// CSCCertInfo is a credential's certificate (chain: leaf first).
type CSCCertInfo struct {
	Status       string   `json:"status,omitempty"` // valid, expired, revoked
	Certificates []string `json:"certificates,omitempty"`
	IssuerDN     string   `json:"issuerDN,omitempty"`
	SerialNumber string   `json:"serialNumber,omitempty"` // hex
	SubjectDN    string   `json:"subjectDN,omitempty"`
	ValidFrom    string   `json:"validFrom,omitempty"` // GeneralizedTime, 20261201093000Z
	ValidTo      string   `json:"validTo,omitempty"`
}

// CSCAuthInfo is how a credential is authorised: explicitly, with a PIN
// and a one-time password.
type CSCAuthInfo struct {
	Mode       string          `json:"mode"` // explicit
	Expression string          `json:"expression,omitempty"`
	Objects    []CSCAuthObject `json:"objects,omitempty"`
}

// CSCAuthObject is one factor of CSCAuthInfo.
type CSCAuthObject struct {
	Type        string `json:"type"` // Password, OTP
	ID          string `json:"id"`   // PIN, OTP
	Format      string `json:"format,omitempty"`
	Label       string `json:"label,omitempty"`
	Description string `json:"description,omitempty"`
	Generator   string `json:"generator,omitempty"` // totp
}

// CSCV1Presence is CSC 1.0's PIN and OTP objects.
type CSCV1Presence struct {
	Presence string `json:"presence"` // true
	Type     string `json:"type,omitempty"`
	Format   string `json:"format,omitempty"`
}

// CSCSendOTP is the body of POST {csc}credentials/sendOTP: a one-time
// password sent to the holder (by SMS), where the service has a sender.
type CSCSendOTP struct {
	CredentialID string `json:"credentialID"`
}

// CSCAuthorize is the body of POST {csc}credentials/authorize. With SCAL
// 2 the hashes to be signed are listed, and NumSignatures counts them.
type CSCAuthorize struct {
	CredentialID     string        `json:"credentialID"`
	NumSignatures    int           `json:"numSignatures"`
	Hashes           []string      `json:"hashes,omitempty"` // base64
	HashAlgorithmOID string        `json:"hashAlgorithmOID,omitempty"`
	AuthData         []CSCAuthData `json:"authData,omitempty"`
	Description      string        `json:"description,omitempty"`
	ClientData       string        `json:"clientData,omitempty"`
}

// CSCAuthData is a factor's value in CSCAuthorize: {"id": "PIN", "value": …}.
type CSCAuthData struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// Authentication objects' IDs.
const (
	AuthPIN = "PIN"
	AuthOTP = "OTP"
)

// CSCSAD is the reply to credentials/authorize: the signature activation
// data, good once, for the hashes listed, ExpiresIn seconds.
type CSCSAD struct {
	SAD       string `json:"SAD"`
	ExpiresIn int    `json:"expiresIn"`
}

// CSCSignHash is the body of POST {csc}signatures/signHash.
type CSCSignHash struct {
	CredentialID     string   `json:"credentialID"`
	SAD              string   `json:"SAD"`
	Hashes           []string `json:"hashes"`
	HashAlgorithmOID string   `json:"hashAlgorithmOID,omitempty"`
	SignAlgo         string   `json:"signAlgo"`
	SignAlgoParams   string   `json:"signAlgoParams,omitempty"`
	OperationMode    string   `json:"operationMode,omitempty"` // S only
	ClientData       string   `json:"clientData,omitempty"`
}

// CSCSignatures is the reply to signHash: a signature per hash, in order
// (base64; ECDSA's DER-encoded).
type CSCSignatures struct {
	Signatures []string `json:"signatures"`
}

// OIDs of the algorithms the service knows.
const (
	OIDSHA256          = "2.16.840.1.101.3.4.2.1"
	OIDECDSAWithSHA256 = "1.2.840.10045.4.3.2"
	OIDECPublicKey     = "1.2.840.10045.2.1"
	OIDSHA256WithRSA   = "1.2.840.113549.1.1.11"
	OIDRSAEncryption   = "1.2.840.113549.1.1.1"
	OIDP256            = "1.2.840.10045.3.1.7"
)

// CSCError is the body of every refusal of the CSC API and of
// RemotePrefix: CSC's error and error_description, and for a wrong
// secret the tries left before it is blocked.
type CSCError struct {
	Error        string `json:"error"`
	Description  string `json:"error_description"`
	AttemptsLeft *int   `json:"attempts_left,omitempty"`
}

// Error codes of CSCError: CSC's own, then Paraphe's.
const (
	CSCInvalidRequest = "invalid_request"
	CSCInvalidToken   = "invalid_token" // the bearer token is missing, expired or unknown
	CSCAccessDenied   = "access_denied" // wrong user ID or password, or refresh token
	CSCInvalidPIN     = "invalid_pin"
	CSCInvalidOTP     = "invalid_otp"
	CSCServerError    = "server_error"

	// RemotePasswordChange: the password is the initial one, which signs
	// in nowhere until it is changed (RemotePrefix password).
	RemotePasswordChange = "password_change_required"
	// RemotePasswordRule: the new password breaks a rule; the
	// description is the rule (a config.PINError rule: too_short,
	// need_upper…).
	RemotePasswordRule = "password_rule"
	// RemoteAccountLocked: too many wrong passwords; the CA operator
	// unlocks the account.
	RemoteAccountLocked = "account_locked"
	// RemoteNotActivated: the credential is not activated yet (PUK, new
	// PIN, one-time-password generator).
	RemoteNotActivated = "not_activated"
	// RemotePINLocked: too many wrong PINs or one-time passwords: unlock
	// with the PUK.
	RemotePINLocked = "pin_locked"
	// RemoteInvalidPUK: a wrong PUK, with the tries left.
	RemoteInvalidPUK = "invalid_puk"
	// RemotePUKLocked: the PUK is blocked too; only the CA can help.
	RemotePUKLocked = "puk_locked"
	// RemotePINRule: the new PIN is not exactly 8 digits.
	RemotePINRule = "pin_rule"
	// RemoteInvalidState: the account is not at the step this asks for.
	RemoteInvalidState = "invalid_state"
	// RemoteRenewalPending: the renewal waits for a registration
	// officer's approval (the CA's policy); the request is recorded.
	RemoteRenewalPending = "renewal_pending"
)

// Account states, as RemoteAccount says them.
const (
	RemoteStatePassword   = "password"   // the initial password must be changed
	RemoteStateActivation = "activation" // PUK, new PIN and a TOTP generator wanted
	RemoteStateOTP        = "otp"        // the TOTP generator's first code wanted
	RemoteStateActive     = "active"
)

// RemoteAccount is the reply to GET {remote}account.
type RemoteAccount struct {
	UserID       string `json:"user_id"`
	State        string `json:"state"`
	PINTriesLeft int    `json:"pin_tries_left"`
	OTPTriesLeft int    `json:"otp_tries_left"`
	PUKTriesLeft int    `json:"puk_tries_left"`
}

// RemotePassword is the body of POST {remote}password, with the user ID
// and current password in HTTP Basic.
type RemotePassword struct {
	NewPassword string `json:"new_password"`
}

// RemoteActivate is the body of POST {remote}activate and of {remote}unlock:
// the PUK and the new PIN.
type RemoteActivate struct {
	PUK    string `json:"puk"`
	NewPIN string `json:"new_pin"`
}

// RemoteOTPSetup is the reply to activate: the generator's key as an
// otpauth:// URI (and in base32, for typing).
type RemoteOTPSetup struct {
	URI    string `json:"otp_uri"`
	Secret string `json:"otp_secret"`
}

// RemoteOTP is the body of POST {remote}activate/confirm.
type RemoteOTP struct {
	OTP string `json:"otp"`
}

// RemotePINChange is the body of POST {remote}pin.
type RemotePINChange struct {
	PIN    string `json:"pin"`
	OTP    string `json:"otp"`
	NewPIN string `json:"new_pin"`
}

// RemoteCredential is the body of POST {remote}renew/details, whose
// reply is the RenewalDetails of the credential's successor.
type RemoteCredential struct {
	CredentialID string `json:"credentialID"`
}

// RemoteRenew is the body of POST {remote}renew: the credential to renew,
// authorised as a signature is.
type RemoteRenew struct {
	CredentialID string `json:"credentialID"`
	PIN          string `json:"pin"`
	OTP          string `json:"otp"`
	Coupon       string `json:"coupon,omitempty"`
}

// RemoteRenewed is the reply to renew: the successor's credential.
type RemoteRenewed struct {
	CredentialID string   `json:"credentialID"`
	Certificates []string `json:"certificates"` // base64 DER, leaf first
}
