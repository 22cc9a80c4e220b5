package main

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procMemory reads this process's resident set from /proc/self/status:
// all of it (VmRSS), its anonymous part (the heap, stacks: what the
// process owns) and its file-backed part (mapped files, such as the
// projection database bbolt maps, which the kernel may drop and read
// again). ok is false where /proc is missing.
func procMemory() (rss, anon, file float64, ok bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, 0, false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, rest, found := strings.Cut(line, ":")
		f := strings.Fields(rest)
		if !found || len(f) == 0 {
			continue
		}
		kib, _ := strconv.ParseFloat(f[0], 64)
		switch name {
		case "VmRSS":
			rss = kib / 1024
		case "RssAnon":
			anon = kib / 1024
		case "RssFile":
			file = kib / 1024
		}
	}
	return rss, anon, file, true
}

// memPeaks are the peaks a memSampler saw, each with the phase of the
// benchmark it was reached in.
type memPeaks struct {
	// RSSMiB is the whole resident set's peak (both parts at one moment).
	RSSMiB    float64 `json:"rss_mib"`
	RSSPhase  string  `json:"rss_phase"`
	AnonMiB   float64 `json:"anon_mib"`
	AnonPhase string  `json:"anon_phase"`
	FileMiB   float64 `json:"file_mib"`
	FilePhase string  `json:"file_phase"`
}

// memSampler samples the anonymous and file-backed parts of the
// process's resident set every interval until stopped, so that a
// benchmark can say what its peak RSS is made of and when it came.
type memSampler struct {
	mu    sync.Mutex
	phase string
	peaks memPeaks
	stop  chan struct{}
	done  chan struct{}
}

// startMemSampler starts sampling in phase.
func startMemSampler(phase string, interval time.Duration) *memSampler {
	s := &memSampler{phase: phase, stop: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *memSampler) sample() {
	rss, anon, file, ok := procMemory()
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rss > s.peaks.RSSMiB {
		s.peaks.RSSMiB, s.peaks.RSSPhase = rss, s.phase
	}
	if anon > s.peaks.AnonMiB {
		s.peaks.AnonMiB, s.peaks.AnonPhase = anon, s.phase
	}
	if file > s.peaks.FileMiB {
		s.peaks.FileMiB, s.peaks.FilePhase = file, s.phase
	}
}

// enter samples the phase ending, then names the one starting.
func (s *memSampler) enter(phase string) {
	s.sample()
	s.mu.Lock()
	s.phase = phase
	s.mu.Unlock()
}

// finish stops sampling (after a last sample) and returns the peaks.
func (s *memSampler) finish() memPeaks {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peaks
}
