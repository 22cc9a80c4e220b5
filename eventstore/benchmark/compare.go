package benchmark

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// Plan is a side-by-side comparison: every engine at every concurrency
// level, Rounds times.
type Plan struct {
	// Engines are run in this order at each level.
	Engines []Engine
	// Writers are the concurrency levels, in the order run.
	Writers []int
	// Duration is the length of each run.
	Duration time.Duration
	// Rounds is how many times each engine runs at each level (default 1);
	// Compare reports the median.
	Rounds int
	// Dir is the scratch directory. Each run gets a fresh subdirectory,
	// removed as soon as the run ends.
	Dir string
	// Progress, if set, is called after every run with its result.
	Progress func(round int, r Result)
}

// Row is the outcome of one concurrency level.
type Row struct {
	Writers int
	// Results maps an engine's name to its median result over the rounds.
	Results map[string]Result
	// Runs maps an engine's name to its result in each round, in order.
	Runs map[string][]Result
}

// Ratio returns engine a's throughput over engine b's, paired by round:
// the median over rounds of a's events/s divided by b's in the same round.
// Noise that hits one round hits both engines, so this is steadier than
// the ratio of the medians. It returns 0 if either engine is missing or b
// appended nothing in some round.
func (r Row) Ratio(a, b string) float64 {
	ra, rb := r.Runs[a], r.Runs[b]
	if len(ra) == 0 || len(ra) != len(rb) {
		return 0
	}
	q := make([]float64, len(ra))
	for i := range ra {
		d := rb[i].EventsPerSecond()
		if d == 0 {
			return 0
		}
		q[i] = ra[i].EventsPerSecond() / d
	}
	slices.Sort(q)
	if n := len(q); n%2 == 0 {
		return (q[n/2-1] + q[n/2]) / 2
	}
	return q[len(q)/2]
}

// Compare runs p. The runs are interleaved so that noise from the machine
// falls on every engine alike: for each level, each round runs every
// engine back to back before the next round starts. It stops at the first
// failed run and returns its error along with the rows completed before.
func Compare(ctx context.Context, p Plan) ([]Row, error) {
	if len(p.Engines) == 0 || len(p.Writers) == 0 {
		return nil, errors.New("benchmark: a plan needs engines and concurrency levels")
	}
	rounds := max(p.Rounds, 1)
	var rows []Row
	for _, writers := range p.Writers {
		runs := make(map[string][]Result, len(p.Engines))
		for round := range rounds {
			for _, e := range p.Engines {
				r, err := runIn(ctx, e, p.Dir, Config{Writers: writers, Duration: p.Duration})
				if err != nil {
					return rows, fmt.Errorf("%d writers, round %d: %w", writers, round+1, err)
				}
				runs[e.Name] = append(runs[e.Name], r)
				if p.Progress != nil {
					p.Progress(round, r)
				}
			}
		}
		row := Row{Writers: writers, Results: make(map[string]Result, len(runs)), Runs: runs}
		for name, rs := range runs {
			row.Results[name] = Median(rs)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// runIn runs e in a fresh subdirectory of dir and removes it afterwards.
func runIn(ctx context.Context, e Engine, dir string, cfg Config) (Result, error) {
	sub, err := os.MkdirTemp(dir, fmt.Sprintf("%s-w%d-", e.Name, cfg.Writers))
	if err != nil {
		return Result{}, fmt.Errorf("benchmark %s: scratch directory: %w", e.Name, err)
	}
	r, err := RunEngine(ctx, e, sub, cfg)
	if rerr := os.RemoveAll(sub); rerr != nil && err == nil {
		err = fmt.Errorf("benchmark %s: remove scratch directory: %w", e.Name, rerr)
	}
	return r, err
}
