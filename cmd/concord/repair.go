package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/concord-ledger/concord/eventstore/segment"
)

func init() {
	register(command{
		name:    "repair",
		summary: "say what damage keeps a stopped ledger's log from opening, and cut it there when told (--cut)",
		run:     runRepair,
	})
}

const repairSynopsis = `--data DIR [--cut]

Opens the event store of a stopped ledger. A torn last write is cut at
every start anyway; this is for what start-up refuses to cut: a damaged
record in the last segment that complete records follow, or data beyond
the reach of one unfinished write. Those records may have been
acknowledged, so cutting drops history: restoring from a backup is the
better repair when there is one.

Without --cut it only says what is wrong and what a cut would drop. With
--cut it cuts the log at the damaged record, DROPPING every record from
there on, and says what it dropped. Take a copy of the directory first.
Damage anywhere else (an older segment) is not repaired here.`

func runRepair(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("repair", repairSynopsis)
	data := fs.String("data", "", "data `directory` of the stopped ledger")
	cut := fs.Bool("cut", false, "cut the log at the damaged record, DROPPING the records after it")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *data == "" || fs.NArg() > 0 {
		return Usagef("--data is required, and nothing else but --cut")
	}
	dir := filepath.Join(*data, eventsDir)
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := segment.Open(ctx, dir, segment.Options{Logger: logger, RepairHint: "concord repair --data " + *data + " --cut"})
	if err == nil {
		head, _ := s.Head(ctx)
		if cerr := s.Close(); cerr != nil {
			return cerr
		}
		fmt.Fprintf(m.Stdout, "nothing to repair: the log of %s opens, %d events\n", *data, head)
		return nil
	}
	var dt *segment.DamagedTailError
	if !errors.As(err, &dt) {
		return fmt.Errorf("the log of %s does not open, and this is not damage repair can cut: %w", *data, err)
	}
	drops := fmt.Sprintf("position %d on", dt.Position)
	if dt.Following[0] > 0 {
		drops = fmt.Sprintf("positions %d..%d", dt.Position, dt.Following[1])
	}
	if !*cut {
		fmt.Fprintf(m.Stdout, "segment %s: the record at offset %d (position %d) is damaged: %s\n", dt.Segment, dt.Offset, dt.Position, dt.Reason)
		if dt.Following[0] > 0 {
			fmt.Fprintf(m.Stdout, "complete records follow it: positions %d..%d\n", dt.Following[0], dt.Following[1])
		}
		fmt.Fprintf(m.Stdout, "a cut would end the log at position %d, dropping %s. Nothing was changed.\n"+
			"Restore from a backup if you can; otherwise copy the directory and run: concord repair --data %s --cut\n", dt.Position-1, drops, *data)
		return fmt.Errorf("the log of %s is damaged at position %d", *data, dt.Position)
	}
	s, err = segment.Open(ctx, dir, segment.Options{Logger: logger, CutDamagedTail: true})
	if err != nil {
		return fmt.Errorf("cut the log of %s: %w", *data, err)
	}
	head, _ := s.Head(ctx)
	if err := s.Close(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "CUT: the log of %s now ends at position %d; %s were DROPPED. Run concord verify --data %s --pubkey KEY before serving it again.\n",
		*data, head, drops, *data)
	return nil
}
