package main

import (
	"fmt"
	"strings"
	"time"
)

// humanDuration formats d as Docker's ps and images print ages.
func humanDuration(d time.Duration) string {
	seconds := int(d.Seconds())
	switch {
	case seconds < 1:
		return "Less than a second"
	case seconds == 1:
		return "1 second"
	case seconds < 60:
		return fmt.Sprintf("%d seconds", seconds)
	}
	minutes := int(d.Minutes())
	switch {
	case minutes == 1:
		return "About a minute"
	case minutes < 60:
		return fmt.Sprintf("%d minutes", minutes)
	}
	hours := int(d.Hours() + 0.5)
	switch {
	case hours == 1:
		return "About an hour"
	case hours < 48:
		return fmt.Sprintf("%d hours", hours)
	case hours < 24*7*2:
		return fmt.Sprintf("%d days", hours/24)
	case hours < 24*30*2:
		return fmt.Sprintf("%d weeks", hours/24/7)
	case hours < 24*365*2:
		return fmt.Sprintf("%d months", hours/24/30)
	}
	return fmt.Sprintf("%d years", int(d.Hours())/24/365)
}

// humanSize formats a byte count with decimal units and three significant
// digits, as Docker prints image sizes ("8.09MB").
func humanSize(size int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	value := float64(size)
	i := 0
	for value >= 1000 && i < len(units)-1 {
		value /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", value, units[i])
}

// ago formats the time since t as "3 minutes ago".
func ago(t time.Time) string {
	return humanDuration(time.Since(t)) + " ago"
}

// truncate shortens s to n characters with a trailing ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// quoteCommand joins a command line for display, quoting as Docker's ps
// does: the whole line in double quotes.
func quoteCommand(args []string) string {
	return `"` + strings.Join(args, " ") + `"`
}
