package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// Linux fixes it at 100 for user space.
const clockTicks = 100

// procSample is a process's CPU time and resident memory at one moment.
type procSample struct {
	CPU time.Duration // utime + stime of all threads
	RSS int64         // bytes
	At  time.Time
}

// sampleProc reads /proc/<pid>/stat (fields 14 and 15 after the command
// name, which may hold spaces) and /proc/<pid>/statm.
func sampleProc(pid int) (procSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procSample{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime 15.
	if len(f) < 13 {
		return procSample{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return procSample{}, fmt.Errorf("/proc/%d/stat: bad utime/stime %q %q", pid, f[11], f[12])
	}
	m, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return procSample{}, err
	}
	mf := strings.Fields(string(m))
	if len(mf) < 2 {
		return procSample{}, fmt.Errorf("/proc/%d/statm: %q", pid, m)
	}
	pages, err := strconv.ParseInt(mf[1], 10, 64)
	if err != nil {
		return procSample{}, err
	}
	return procSample{
		CPU: time.Duration(ut+st) * time.Second / clockTicks,
		RSS: pages * int64(os.Getpagesize()),
		At:  time.Now(),
	}, nil
}
