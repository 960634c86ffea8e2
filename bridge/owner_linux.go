package bridge

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// procNetTCP are the kernel's tables of this network namespace's TCP
// sockets: local address, state and owner (uid) of each.
var procNetTCP = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// Addresses a listener holding 127.0.0.1:PORT may have, as the tables
// write them (hexadecimal, in the host's byte order: little-endian here):
// 127.0.0.1, any IPv4 address, any IPv6 address, ::ffff:127.0.0.1.
var holdingAddrs = map[string]bool{
	"0100007F": true, "7F000001": true, "00000000": true,
	"00000000000000000000000000000000": true, "0000000000000000FFFF00000100007F": true,
}

// peerUID is the uid of the process at the other end of c, a connection
// accepted on loopback: the owner of the socket whose local address is
// c's remote one and whose remote address is c's local one; -1 when the
// tables do not say.
func peerUID(c net.Conn) int {
	local, remote := procAddr(c.LocalAddr()), procAddr(c.RemoteAddr())
	if local == "" || remote == "" {
		return -1
	}
	for _, table := range procNetTCP {
		if uid := socketUID(table, func(fs []string) bool { return fs[1] == remote && fs[2] == local }); uid >= 0 {
			return uid
		}
	}
	return -1
}

// procAddr is a TCP address as /proc/net/tcp writes it (IPv4 on a
// little-endian host), or "".
func procAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	ip := ta.IP.To4()
	if !ok || ip == nil {
		return ""
	}
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ta.Port)
}

// portOwner is the uid of the socket listening on port that keeps the
// bridge from it, or -1 when none is found.
func portOwner(port int) int {
	want := strings.ToUpper(strconv.FormatInt(int64(port), 16))
	for len(want) < 4 {
		want = "0" + want
	}
	for _, table := range procNetTCP {
		uid := socketUID(table, func(fs []string) bool {
			addr, p, ok := strings.Cut(fs[1], ":")
			return fs[3] == "0A" && ok && p == want && holdingAddrs[addr] // 0A: LISTEN
		})
		if uid >= 0 {
			return uid
		}
	}
	return -1
}

// socketUID is the uid of the first socket of table that match says is
// the one, or -1.
func socketUID(table string, match func(fields []string) bool) int {
	f, err := os.Open(table)
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid …
		fs := strings.Fields(sc.Text())
		if len(fs) < 8 || !match(fs) {
			continue
		}
		if uid, err := strconv.Atoi(fs[7]); err == nil {
			return uid
		}
	}
	return -1
}
