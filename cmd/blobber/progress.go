package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/blobber-dev/blobber"
)

// The ways --progress takes to show a transfer.
const (
	progressAuto  = "auto"  // bars on a terminal, nothing otherwise
	progressPlain = "plain" // a line per phase now and then, for CI logs
	progressNone  = "none"
)

// progressFlags are the flags of the commands that show a transfer's
// progress (push, pull, cp, copy).
type progressFlags struct {
	mode       string
	noProgress bool // the deprecated spelling of --progress none
}

func (p *progressFlags) register(f *pflag.FlagSet) {
	f.StringVar(&p.mode, "progress", progressAuto, "how to show progress on stderr: auto (bars on a terminal, nothing otherwise), plain (a line per phase every few seconds and at the end, for CI logs) or none")
	f.BoolVar(&p.noProgress, "no-progress", false, "do not show progress")
	_ = f.MarkDeprecated("no-progress", "use --progress none")
}

// startProgress returns the client option that feeds the progress display
// --progress asks for, and the function that stops it: stop(true) after a
// transfer that succeeded, stop(false) after one that failed. The command
// stops it before printing its result, so that no redraw comes after;
// calling stop again does nothing (a deferred stop(false) for the paths
// that return early).
func startProgress(cmd *cobra.Command, p progressFlags) (blobber.Option, func(ok bool), error) {
	mode := p.mode
	if p.noProgress && !cmd.Flags().Changed("progress") {
		mode = progressNone
	}
	stderr := cmd.ErrOrStderr()
	var d progressDisplay
	switch mode {
	case progressAuto:
		if isTerminal(stderr) {
			d = newProgressBars(cmd, stderr)
		}
	case progressPlain:
		d = newPlainProgress(stderr, plainProgressInterval)
	case progressNone:
	default:
		return nil, nil, usagef("--progress %q: must be auto, plain or none", p.mode)
	}
	if d == nil {
		return blobber.WithProgress(nil), func(bool) {}, nil
	}
	var once sync.Once
	return blobber.WithProgress(d.update), func(ok bool) { once.Do(func() { d.stop(ok) }) }, nil
}

// progressDisplay shows how the phases of a transfer advance (see
// blobber.ProgressFunc).
type progressDisplay interface {
	update(phase string, done, total int64)
	// stop ends the display for good: once it returns, nothing more is
	// written.
	stop(ok bool)
}

// progressBars draws one bar per phase of a transfer on a terminal.
type progressBars struct {
	p      *mpb.Progress
	mu     sync.Mutex
	bars   map[string]*mpb.Bar
	totals map[string]int64 // each bar's, as last set
}

func newProgressBars(cmd *cobra.Command, out io.Writer) *progressBars {
	return &progressBars{
		p: mpb.NewWithContext(cmd.Context(), mpb.WithOutput(out), mpb.WithWidth(32),
			mpb.WithConsoleWriter(sizedConsole{cupwriter.New(out, false)})),
		bars:   map[string]*mpb.Bar{},
		totals: map[string]int64{},
	}
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

// stop ends every bar and waits for the last frame. After a success, a bar
// that did not reach its end is one whose work turned out unnecessary (an
// upload of a blob the registry already has, the read of a tree known
// unchanged): it is removed rather than left part-way. After a failure the
// bars stay where they stopped.
func (pb *progressBars) stop(ok bool) {
	pb.mu.Lock()
	for _, bar := range pb.bars {
		if !bar.Completed() {
			bar.Abort(ok)
		}
	}
	pb.mu.Unlock()
	pb.p.Wait()
}

// sizedConsole is mpb's terminal writer with a width to draw in when the
// terminal reports none (a width of 0, as some serial consoles and
// containers' pseudo-terminals do): without one, nothing is drawn.
type sizedConsole struct{ *cupwriter.Writer }

// fallbackColumns is the width assumed for a terminal that reports none.
const fallbackColumns = 80

func (c sizedConsole) GetTermSize() (width, height int, err error) {
	width, height, err = c.Writer.GetTermSize()
	if err != nil || width <= 0 {
		width, err = fallbackColumns, nil
	}
	if height <= 0 {
		height = 24
	}
	return width, height, nil
}

// isTerminal tells whether a command's stdin, stdout or stderr is a
// terminal; a character device that is not one (/dev/null) is not.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
