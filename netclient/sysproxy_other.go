//go:build !linux && !windows && !darwin

package netclient

// readOSProxy: other systems have no common proxy setting beyond the
// environment variables.
func readOSProxy() osProxy { return osProxy{} }
