package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestParseSize: sizes as an operator writes them, from the units' rules
// (KiB = 1024 bytes, MiB = 1024 KiB, GiB = 1024 MiB).
func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"1048576", 1048576},
		{"512B", 512},
		{"4KiB", 4096},
		{"700MiB", 700 * 1024 * 1024},
		{" 1GiB ", 1024 * 1024 * 1024},
		{"3 GiB", 3 * 1024 * 1024 * 1024},
	} {
		if got, err := parseSize(c.in); err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "MiB", "0", "-5MiB", "1.5GiB", "700MB", "ten", "9999999999999GiB"} {
		if got, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", bad, got)
		}
	}
}

// TestApplyMemoryLimit: a size sets the runtime's soft limit; none leaves
// it as it was; a bad size is a usage error and changes nothing.
func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	if got, err := applyMemoryLimit("700MiB"); err != nil || got != 700<<20 || debug.SetMemoryLimit(-1) != 700<<20 {
		t.Fatalf("applyMemoryLimit(700MiB) = %d, %v; the runtime's limit %d", got, err, debug.SetMemoryLimit(-1))
	}
	if got, err := applyMemoryLimit(""); err != nil || got != 700<<20 {
		t.Fatalf(`applyMemoryLimit("") = %d, %v; want the limit left at 700 MiB`, got, err)
	}
	if _, err := applyMemoryLimit("lots"); err == nil || debug.SetMemoryLimit(-1) != 700<<20 {
		t.Fatalf("a bad size gave %v and the limit %d", err, debug.SetMemoryLimit(-1))
	}
	if describeLimit(math.MaxInt64) != "none" || describeLimit(700<<20) != "700 MiB" {
		t.Fatalf("describeLimit: %q, %q", describeLimit(math.MaxInt64), describeLimit(700<<20))
	}
}
