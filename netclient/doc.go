// Package netclient builds the one http.Client every Paraphe request goes
// through, so that the machine policy's proxy and TLS anchors apply
// everywhere: the proxy in force and where it comes from (the policy, the
// environment, the operating system's settings, a PAC file run in a
// JavaScript engine), credentials for it from the OS keychain, tunnels
// through HTTP proxies that answer Basic and NTLM challenges, and the
// check of a server's chain against the policy's anchors.
//
// Platform code is split by file suffix (sysproxy_linux.go,
// sysproxy_windows.go, sysproxy_darwin.go), each defining readOSProxy.
package netclient
