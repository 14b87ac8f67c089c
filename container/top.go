package container

import (
	"fmt"
	"time"
)

// TopProcess is one process of a container, as gocker top lists it with
// the columns of ps -ef.
type TopProcess struct {
	UID   string // the real user's name on the host, or its number
	PID   int    // host pid
	PPID  int    // host pid of the parent
	C     int    // processor use in percent over the process's lifetime
	STIME string // start time
	TTY   string
	TIME  string // processor time used, [DD-]HH:MM:SS
	CMD   string
}

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat. Linux
// fixes it at 100 on every architecture that gocker builds for; reading
// it with sysconf(3) would need cgo.
const clockTicks = 100

// formatCPUTime formats processor time in clock ticks as ps's TIME column.
func formatCPUTime(ticks uint64) string {
	total := ticks / clockTicks
	days, rest := total/86400, total%86400
	s := fmt.Sprintf("%02d:%02d:%02d", rest/3600, rest%3600/60, rest%60)
	if days > 0 {
		s = fmt.Sprintf("%d-%s", days, s)
	}
	return s
}

// formatStartTime formats a start time as ps's STIME column: the time of
// day when it is today, the month and day within the year, the year
// before.
func formatStartTime(start, now time.Time) string {
	switch {
	case start.YearDay() == now.YearDay() && start.Year() == now.Year():
		return start.Format("15:04")
	case start.Year() == now.Year():
		return start.Format("Jan02")
	}
	return start.Format("2006")
}

// formatTTY names the terminal of a tty_nr (field 7 of /proc/PID/stat),
// as ps does for the terminals a container has: pseudo-terminals and
// virtual consoles.
func formatTTY(ttyNr uint64) string {
	if ttyNr == 0 {
		return "?"
	}
	major := (ttyNr >> 8) & 0xfff
	minor := (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00)
	switch {
	case major >= 136 && major <= 143:
		return fmt.Sprintf("pts/%d", minor+(major-136)*256)
	case major == 4 && minor < 64:
		return fmt.Sprintf("tty%d", minor)
	}
	return fmt.Sprintf("%d:%d", major, minor)
}

// cpuPercent returns ps's C column: the processor time as a percentage
// of the time since the process started.
func cpuPercent(cpuTicks uint64, elapsed time.Duration) int {
	if elapsed <= 0 {
		return 0
	}
	used := time.Duration(cpuTicks) * time.Second / clockTicks
	return int(used * 100 / elapsed)
}
