package bridge

import (
	"bufio"
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

// portOwner is the uid of the socket listening on port that keeps the
// bridge from it, or -1 when none is found.
func portOwner(port int) int {
	want := strings.ToUpper(strconv.FormatInt(int64(port), 16))
	for len(want) < 4 {
		want = "0" + want
	}
	for _, table := range procNetTCP {
		if uid := listenerUID(table, want); uid >= 0 {
			return uid
		}
	}
	return -1
}

func listenerUID(table, port string) int {
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
		if len(fs) < 8 || fs[3] != "0A" { // 0A: LISTEN
			continue
		}
		addr, p, ok := strings.Cut(fs[1], ":")
		if !ok || p != port || !holdingAddrs[addr] {
			continue
		}
		if uid, err := strconv.Atoi(fs[7]); err == nil {
			return uid
		}
	}
	return -1
}
