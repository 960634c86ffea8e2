package netclient

import "os/exec"

// readOSProxy reads the System Configuration proxies ("scutil --proxy").
func readOSProxy() osProxy {
	out, err := exec.Command("scutil", "--proxy").Output()
	if err != nil {
		return osProxy{}
	}
	return parseScutilProxy(string(out))
}
