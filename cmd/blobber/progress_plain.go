package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// plainProgressInterval is how often --progress plain writes its lines.
const plainProgressInterval = 2 * time.Second

// plainProgress writes, for logs that keep every byte (CI), one line per
// phase that advanced, every interval, and a last line per phase when the
// transfer ends: no escape codes, no redraws.
type plainProgress struct {
	out    io.Writer
	mu     sync.Mutex
	phases map[string]*plainPhase
	order  []string // phases in the order they began
	quit   chan struct{}
	ticker sync.WaitGroup
}

type plainPhase struct {
	done, total int64
	written     bool // the line for done and total is written
}

func newPlainProgress(out io.Writer, every time.Duration) *plainProgress {
	pp := &plainProgress{out: out, phases: map[string]*plainPhase{}, quit: make(chan struct{})}
	pp.ticker.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				pp.writeChanged()
			case <-pp.quit:
				return
			}
		}
	})
	return pp
}

func (pp *plainProgress) update(phase string, done, total int64) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	ph, ok := pp.phases[phase]
	if !ok {
		ph = &plainPhase{}
		pp.phases[phase] = ph
		pp.order = append(pp.order, phase)
	}
	if ph.done != done || ph.total != total {
		ph.done, ph.total, ph.written = done, total, false
	}
}

// writeChanged writes a line for each phase that moved since its last one.
func (pp *plainProgress) writeChanged() {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for _, name := range pp.order {
		if ph := pp.phases[name]; !ph.written {
			fmt.Fprintf(pp.out, "%s %s\n", name, plainCounts(ph.done, ph.total))
			ph.written = true
		}
	}
}

// stop writes each phase's last state: complete, skipped (after a success,
// a phase that did not reach its end was not needed) or where it stopped.
func (pp *plainProgress) stop(ok bool) {
	close(pp.quit)
	pp.ticker.Wait()
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for _, name := range pp.order {
		ph := pp.phases[name]
		switch {
		case ph.total > 0 && ph.done >= ph.total:
			fmt.Fprintf(pp.out, "%s %s, done\n", name, plainCounts(ph.done, ph.total))
		case ok:
			fmt.Fprintf(pp.out, "%s %s, not needed\n", name, plainCounts(ph.done, ph.total))
		default:
			fmt.Fprintf(pp.out, "%s %s, stopped\n", name, plainCounts(ph.done, ph.total))
		}
	}
}

// plainCounts is "1.5 MiB / 3.0 MiB (50%)", or the bytes done alone while
// the total is not known.
func plainCounts(done, total int64) string {
	if total <= 0 {
		return formatSize(done)
	}
	return fmt.Sprintf("%s / %s (%d%%)", formatSize(done), formatSize(total), 100*done/total)
}
