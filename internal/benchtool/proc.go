//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The CPU processes use, read from /proc (Linux): utime + stime of
// /proc/PID/stat, all threads, in clock ticks of 10 ms (USER_HZ 100, as
// on every Linux this runs on).
const tick = 10 * time.Millisecond

// stat is what /proc/PID/stat says of a process's CPU and parent.
type stat struct {
	ppid     int
	self     int64 // utime + stime
	children int64 // cutime + cstime: its children that ended and were waited for
}

func readStat(pid int) (stat, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, false
	}
	// The command name, in parentheses, may hold spaces: count from after it.
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 15 {
		return stat{}, false
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(f[i], 10, 64); return v }
	return stat{ppid: int(n(1)), self: n(11) + n(12), children: n(13) + n(14)}, true
}

// cpu is the CPU time pid has used, all its threads.
func cpu(pid int) time.Duration {
	s, _ := readStat(pid)
	return time.Duration(s.self) * tick
}

// treeCPU is the CPU time of pid and of its descendants, those running
// and those that ended (PostgreSQL serves each connection in a process
// of its own).
func treeCPU(root int) time.Duration {
	stats := map[int]stat{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if s, ok := readStat(pid); ok {
			stats[pid] = s
		}
	}
	var total int64
	for pid, s := range stats {
		for p := pid; p > 1; p = stats[p].ppid {
			if p == root {
				total += s.self
				break
			}
		}
	}
	return time.Duration(total+stats[root].children) * tick
}

// peakMiB is the most memory pid has held (VmHWM, its peak resident set),
// in MiB.
func peakMiB(pid int) int {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb / 1024
		}
	}
	return 0
}

// loadAverage is the first figure of /proc/loadavg: the machine's load
// over the last minute.
func loadAverage() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
