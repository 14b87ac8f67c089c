package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gocker/gocker/image"
)

// progressPrinter shows the state of each layer of a pull or push. On a
// terminal it keeps one line per layer and redraws them in place, as
// Docker does; elsewhere it prints a line when a layer's state changes.
type progressPrinter struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	order   []string
	state   map[string]image.Progress
	drawn   int // lines drawn by the last redraw
	last    time.Time
	fetched bool // a layer was downloaded or pushed
}

func newProgressPrinter(w io.Writer, tty bool) *progressPrinter {
	return &progressPrinter{w: w, tty: tty, state: map[string]image.Progress{}}
}

// update records p and shows it.
func (pp *progressPrinter) update(p image.Progress) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	old, seen := pp.state[p.Layer]
	if !seen {
		pp.order = append(pp.order, p.Layer)
	}
	pp.state[p.Layer] = p
	if p.Status == image.StatusComplete || p.Status == image.StatusPushed {
		pp.fetched = true
	}
	changed := !seen || old.Status != p.Status
	if !pp.tty {
		if changed && p.Status != image.StatusDownloading && p.Status != image.StatusPushing {
			fmt.Fprintf(pp.w, "%s: %s\n", p.Layer, p.Status)
		}
		return
	}
	// Byte counts are redrawn at most ten times a second.
	if !changed && time.Since(pp.last) < 100*time.Millisecond {
		return
	}
	pp.redraw()
}

// finish draws the final state.
func (pp *progressPrinter) finish() {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.tty {
		pp.redraw()
	}
}

func (pp *progressPrinter) redraw() {
	pp.last = time.Now()
	var b strings.Builder
	if pp.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", pp.drawn)
	}
	for _, id := range pp.order {
		b.WriteString("\x1b[2K")
		b.WriteString(progressLine(pp.state[id]))
		b.WriteByte('\n')
	}
	pp.drawn = len(pp.order)
	_, _ = io.WriteString(pp.w, b.String())
}

// progressLine formats one layer's state, with a bar and byte counts while
// bytes move.
func progressLine(p image.Progress) string {
	if (p.Status != image.StatusDownloading && p.Status != image.StatusPushing) || p.Total <= 0 {
		return fmt.Sprintf("%s: %s", p.Layer, p.Status)
	}
	const width = 40
	filled := int(p.Current * width / p.Total)
	filled = min(max(filled, 0), width)
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	return fmt.Sprintf("%s: %-12s [%s] %s/%s", p.Layer, p.Status, bar, humanSize(p.Current), humanSize(p.Total))
}
