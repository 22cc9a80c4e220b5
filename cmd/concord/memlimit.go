package main

import (
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes parseSize reads, largest first so that
// "MiB" is not read as "B".
var sizeUnits = []struct {
	suffix string
	bytes  int64
}{
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1},
}

// parseSize reads a size in bytes: a whole number, optionally followed by
// B, KiB, MiB or GiB ("700MiB", "1GiB", "1048576").
func parseSize(s string) (int64, error) {
	num, unit := strings.TrimSpace(s), int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, unit = strings.TrimSpace(rest), u.bytes
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("%q is not a size: give a positive whole number of bytes, KiB, MiB or GiB, such as 700MiB", s)
	}
	return n * unit, nil
}

// applyMemoryLimit sets the Go runtime's soft memory limit to size (see
// parseSize) and returns it; "" leaves the process's own (the GOMEMLIMIT
// environment variable's, else none) and returns that, math.MaxInt64 for
// none. Under the limit the collector runs more often as the heap nears
// it, rather than letting the heap grow to twice what is live: a replay
// of a million events peaks at about 1.8 GiB without one, under 1 GiB
// with 700MiB (docs/benchmarks.md).
func applyMemoryLimit(size string) (int64, error) {
	n, err := parseMemoryLimit(size)
	if err != nil {
		return 0, err
	}
	return setMemoryLimit(n), nil
}

// parseMemoryLimit reads a --memory-limit: 0 for "" (the process's own).
func parseMemoryLimit(size string) (int64, error) {
	if size == "" {
		return 0, nil
	}
	n, err := parseSize(size)
	if err != nil {
		return 0, Usagef("--memory-limit: %v", err)
	}
	return n, nil
}

// setMemoryLimit sets the runtime's soft memory limit to n bytes (0
// leaves it) and returns the limit in force.
func setMemoryLimit(n int64) int64 {
	if n == 0 {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(n)
	return n
}

// describeLimit says what a soft memory limit is, for a benchmark's
// report.
func describeLimit(n int64) string {
	if n == math.MaxInt64 {
		return "none"
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}
