package container

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// processStartTime returns the start time of process pid in clock ticks
// since boot: field 22 of /proc/PID/stat (proc(5)). The command name in
// field 2 may contain spaces and parentheses, so fields are counted from
// its last ')'.
func processStartTime(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStartTime(data)
}

func parseStartTime(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc stat line")
	}
	fields := bytes.Fields(stat[i+1:])
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 {
		return 0, fmt.Errorf("malformed /proc stat line: %d fields", len(fields)+2)
	}
	return strconv.ParseUint(string(fields[19]), 10, 64)
}
