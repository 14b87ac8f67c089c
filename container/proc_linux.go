package container

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// processStartTime returns the start time of process pid in clock ticks
// since boot: field 22 of /proc/PID/stat (proc(5)).
func processStartTime(pid int) (uint64, error) {
	start, _, err := processStat(pid)
	return start, err
}

// processStat returns the start time and the state letter (R, S, Z, ...)
// of process pid.
func processStat(pid int) (uint64, byte, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	fields, err := statFields(data)
	if err != nil {
		return 0, 0, err
	}
	start, err := strconv.ParseUint(string(fields[19]), 10, 64)
	return start, fields[0][0], err
}

// statFields returns the fields of a /proc/PID/stat line from field 3
// (state) on. The command name in field 2 may contain spaces and
// parentheses, so fields are counted from its last ')'.
func statFields(stat []byte) ([][]byte, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return nil, fmt.Errorf("malformed /proc stat line")
	}
	fields := bytes.Fields(stat[i+1:])
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 {
		return nil, fmt.Errorf("malformed /proc stat line: %d fields", len(fields)+2)
	}
	return fields, nil
}

func parseStartTime(stat []byte) (uint64, error) {
	fields, err := statFields(stat)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(string(fields[19]), 10, 64)
}
