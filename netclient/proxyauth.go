package netclient

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/zalando/go-keyring"
)

// Proxy credentials never sit in the policy file: the user (or IT, per
// user) stores them in the OS keychain, under the proxy's host:port.
const proxyKeychainService = "paraphe-proxy"

// ErrNoProxyCredentials means none are stored for that proxy.
var ErrNoProxyCredentials = errors.New("netclient: no proxy credentials stored")

// SaveProxyCredentials keeps user and password for the proxy at hostPort.
func SaveProxyCredentials(hostPort, user, password string) error {
	if strings.Contains(user, ":") {
		return errors.New("netclient: a proxy user name cannot contain ':'")
	}
	if err := keyring.Set(proxyKeychainService, hostPort, user+":"+password); err != nil {
		return fmt.Errorf("netclient: keychain: %w", err)
	}
	return nil
}

// DeleteProxyCredentials forgets them.
func DeleteProxyCredentials(hostPort string) error {
	err := keyring.Delete(proxyKeychainService, hostPort)
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrNoProxyCredentials
	}
	return err
}

// proxyCredentials returns the stored credentials of the proxy at hostPort.
func proxyCredentials(hostPort string) (*url.Userinfo, error) {
	v, err := keyring.Get(proxyKeychainService, hostPort)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, ErrNoProxyCredentials
	}
	if err != nil {
		return nil, err
	}
	user, pass, _ := strings.Cut(v, ":")
	return url.UserPassword(user, pass), nil
}

// ProxyCredentialsErr tells why no credentials were added for the proxy at
// hostPort: nil when some are stored, ErrNoProxyCredentials when none are,
// or the keychain's own error (locked, no Secret Service), which the doctor
// must not present as "no credentials".
func ProxyCredentialsErr(hostPort string) error {
	_, err := proxyCredentials(hostPort)
	return err
}

// withCredentials adds the stored credentials to a proxy URL (net/http then
// answers the proxy's Basic challenge, and SOCKS5 uses them too).
func withCredentials(u *url.URL) *url.URL {
	if u == nil || u.User != nil {
		return u
	}
	if ui, err := proxyCredentials(u.Host); err == nil {
		c := *u
		c.User = ui
		return &c
	}
	return u
}
