package container

import "testing"

func TestParseProcStat(t *testing.T) {
	// A command name with a space and a parenthesis, as a process may
	// choose with prctl(PR_SET_NAME).
	line := []byte("4242 (sh) x) S 4200 4242 4242 0 -1 4194560 120 0 0 0 7 3 11 5 20 0 1 0 379050 1654784 211 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n")
	st, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != 4200 {
		t.Errorf("ppid = %d, want 4200", st.ppid)
	}
	if st.cpuTicks != 7+3+11+5 {
		t.Errorf("cpuTicks = %d, want utime+stime+cutime+cstime = 26", st.cpuTicks)
	}
	if st.rssPages != 211 {
		t.Errorf("rssPages = %d, want 211", st.rssPages)
	}
	if _, err := parseProcStat([]byte("4242 (sh) S 1 2 3")); err == nil {
		t.Error("parseProcStat accepted a short line")
	}
}

func TestProcessTreeUsageSelf(t *testing.T) {
	u, err := processTreeUsage(1)
	if err != nil {
		t.Skipf("pid 1 is not readable here: %v", err)
	}
	if u.Pids == 0 || u.Memory == 0 {
		t.Errorf("usage of pid 1 and its descendants = %+v, want processes and memory", u)
	}
}
