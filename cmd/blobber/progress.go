package main

import (
	"fmt"
	"os"
	"sync"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/blobber-dev/blobber"
)

// progressBars draws one bar per phase of a transfer on stderr, only when
// stderr is a terminal (scripts and CI logs get no escape codes).
type progressBars struct {
	p      *mpb.Progress
	mu     sync.Mutex
	bars   map[string]*mpb.Bar
	totals map[string]int64 // each bar's, as last set
}

// newProgress returns the client option that feeds the bars, and a function
// that finishes drawing them; both are no-ops when progress is off.
func newProgress(cmd *cobra.Command, off bool) (blobber.Option, func()) {
	if off || !isTerminal(cmd.ErrOrStderr()) {
		return blobber.WithProgress(nil), func() {}
	}
	pb := &progressBars{
		p:      mpb.NewWithContext(cmd.Context(), mpb.WithOutput(cmd.ErrOrStderr()), mpb.WithWidth(32)),
		bars:   map[string]*mpb.Bar{},
		totals: map[string]int64{},
	}
	return blobber.WithProgress(pb.update), pb.finish
}

func (pb *progressBars) update(phase string, done, total int64) {
	pb.mu.Lock()
	bar, ok := pb.bars[phase]
	if !ok {
		bar = pb.p.AddBar(total,
			mpb.PrependDecorators(decor.Name(phase, decor.WC{C: decor.DindentRight | decor.DextraSpace}),
				decor.Any(counters)),
			mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f"), decor.Percentage(decor.WCSyncSpace)),
		)
		pb.bars[phase] = bar
		pb.totals[phase] = total
	}
	if total != pb.totals[phase] {
		// A total that was not known (0: the bar has none) now is.
		bar.SetTotal(total, false)
		pb.totals[phase] = total
	}
	pb.mu.Unlock()
	bar.SetCurrent(done)
}

// counters shows the bytes done of the total, or only those done while
// the total is not known (an upload that begins with its layer's build).
func counters(s decor.Statistics) string {
	if s.Total <= 0 {
		return fmt.Sprintf("% .1f", decor.SizeB1024(s.Current))
	}
	return fmt.Sprintf("% .1f / % .1f", decor.SizeB1024(s.Current), decor.SizeB1024(s.Total))
}

func (pb *progressBars) finish() {
	pb.mu.Lock()
	for _, bar := range pb.bars {
		if !bar.Completed() {
			bar.Abort(false)
		}
	}
	pb.mu.Unlock()
	pb.p.Wait()
}

// isTerminal tells whether a command's stdin, stdout or stderr is a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
