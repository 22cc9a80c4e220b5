package segment

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const crashDirEnv = "CONCORD_SEGMENT_CRASH_DIR"

// TestCrashChild is the child process of TestCrash; it is skipped unless
// TestCrash started it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCrash")
	}
	CrashChild(context.Background(), dir, os.Stdout)
	t.Fatal("the crash child returned before it was killed")
}

// TestCrash kills a child process appending to a store at random moments
// and checks after each crash that nothing acknowledged was lost.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var log strings.Builder
	err := CrashTest(ctx, dir, 20, func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		return cmd
	}, &log)
	t.Log("\n" + log.String())
	if err != nil {
		t.Fatal(err)
	}
}
