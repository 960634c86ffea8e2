//go:build !linux

package bridge

import "net"

// portOwner: this system's tables of sockets are not read (Windows'
// GetExtendedTcpTable, macOS's sysctl would tell): unknown.
func portOwner(int) int { return -1 }

// peerUID: unknown, for the same reason.
func peerUID(net.Conn) int { return -1 }
